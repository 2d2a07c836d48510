import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { defineStream, type StreamSettings } from "../definition.js";

/**
 * Test schemas built at run time (no codegen): `test.v1.OrderPlaced
 * { string order_id = 1; int64 n = 2; bytes body = 3 }` and
 * `test.v1.OrderShipped { string order_id = 1; string carrier = 2 }`. @private
 */
export function testRegistry() {
  const field = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
    name,
    number,
    type,
    label: FieldDescriptorProto_Label.OPTIONAL,
    jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/orders.proto",
    package: "test.v1",
    syntax: "proto3",
    messageType: [
      {
        name: "OrderPlaced",
        field: [
          field("order_id", 1, FieldDescriptorProto_Type.STRING),
          field("n", 2, FieldDescriptorProto_Type.INT64),
          field("body", 3, FieldDescriptorProto_Type.BYTES),
        ],
      },
      { name: "OrderShipped", field: [field("order_id", 1, FieldDescriptorProto_Type.STRING), field("carrier", 2, FieldDescriptorProto_Type.STRING)] },
    ],
  });
  const registry = createFileRegistry(file, () => undefined);
  return { registry, placed: registry.getMessage("test.v1.OrderPlaced")!, shipped: registry.getMessage("test.v1.OrderShipped")! };
}

/** The registry id the test fixture gives OrderPlaced (any sha256 id will do: the producer only carries it). @private */
export const TEST_PLACED_SCHEMA_ID = `sha256:${"ab".repeat(32)}`;

/** A stream definition over the test schemas, keyed by `order_id`. @private */
export function testStream(settings: Partial<StreamSettings> & { name: string }) {
  const { placed, shipped } = testRegistry();
  const key = (m: unknown) => (m as { orderId: string }).orderId;
  return defineStream<{ OrderPlaced: DescMessage; OrderShipped: DescMessage }>(settings, {
    OrderPlaced: { schema: placed, name: "OrderPlaced", type: "test.v1.OrderPlaced", keyPath: "order_id", key, schemaId: TEST_PLACED_SCHEMA_ID },
    OrderShipped: { schema: shipped, name: "OrderShipped", type: "test.v1.OrderShipped", keyPath: "order_id", key },
  });
}
