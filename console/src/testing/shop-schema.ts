// Test support: an `acme.shop.v1.OrderPlaced` event in two versions, built
// as descriptors (what buf would compile), for the console's tests and bench.
import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { defineStream, type StreamDefinition } from "@chronicle/runtime";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

export const ORDER_PLACED = "acme.shop.v1.OrderPlaced";

type Field = { name: string; number: number; type: FieldDescriptorProto_Type };

function orderSet(fields: Field[], reserved: number[] = []): FileDescriptorSet {
  return create(FileDescriptorSetSchema, {
    file: [
      create(FileDescriptorProtoSchema, {
        name: "acme/shop/v1/orders.proto",
        package: "acme.shop.v1",
        syntax: "proto3",
        messageType: [
          {
            name: "OrderPlaced",
            field: fields.map((f) => ({
              ...f,
              label: FieldDescriptorProto_Label.OPTIONAL,
              jsonName: f.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
            })),
            reservedRange: reserved.map((n) => ({ start: n, end: n + 1 })),
          },
        ],
      }),
    ],
  });
}

/** Version 1: order_id, total_cents (int64), note. */
export const orderPlacedV1 = orderSet([
  { name: "order_id", number: 1, type: FieldDescriptorProto_Type.STRING },
  { name: "total_cents", number: 2, type: FieldDescriptorProto_Type.INT64 },
  { name: "note", number: 3, type: FieldDescriptorProto_Type.STRING },
]);

/** Version 2: total_cents becomes a string and note is deleted: incompatible under every mode but NONE. */
export const orderPlacedV2 = orderSet([
  { name: "order_id", number: 1, type: FieldDescriptorProto_Type.STRING },
  { name: "total_cents", number: 2, type: FieldDescriptorProto_Type.STRING },
  { name: "currency", number: 4, type: FieldDescriptorProto_Type.STRING },
]);

/** The message descriptor of a version. */
export function orderPlacedDesc(set: FileDescriptorSet): DescMessage {
  return createFileRegistry(set).getMessage(ORDER_PLACED)!;
}

/** A stream of `OrderPlaced` events of schema `set` (default version 1), keyed by order id, carrying `schemaId` in `ce-dataschema`. */
export function orderStream(name: string, partitions: number, schemaId: string, set: FileDescriptorSet = orderPlacedV1): StreamDefinition {
  return defineStream(
    { name, partitions },
    {
      OrderPlaced: {
        schema: orderPlacedDesc(set),
        name: "OrderPlaced",
        type: ORDER_PLACED,
        keyPath: "order_id",
        key: (e) => (e as unknown as { orderId: string }).orderId,
        schemaId,
      },
    },
  );
}
