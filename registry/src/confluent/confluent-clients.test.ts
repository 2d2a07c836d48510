import { create, createFileRegistry, createMutableRegistry, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import {
  Compatibility,
  ProtobufDeserializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
  type RestError,
  type SchemaInfo,
} from "@confluentinc/schemaregistry";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistryServer, type RegistryServer } from "../server/registry-server.js";
import { compileProtoText } from "./proto-text-compile.js";

const ADMIN = "admin-token-0123456789abcdef";
const tokens = [{ name: "ops", role: "admin" as const, token: ADMIN }];

const MONEY = `syntax = "proto3";
package acme.common.v1;
message Money {
  int64 cents = 1;
  string currency = 2;
}
`;
const ORDER = `syntax = "proto3";
package acme.orders.v1;
import "google/protobuf/timestamp.proto";
import "acme/common/v1/money.proto";
message OrderPlaced {
  string order_id = 1;
  acme.common.v1.Money total = 2;
  google.protobuf.Timestamp placed_at = 3;
  repeated string skus = 4;
}
`;
const SIMPLE_V1 = `syntax = "proto3";
package acme.shipping.v1;
message ParcelShipped {
  string parcel_id = 1;
  int32 weight_grams = 2;
}
`;
const SIMPLE_V2 = SIMPLE_V1.replace("int32 weight_grams = 2;", "int32 weight_grams = 2;\n  string carrier = 3;");
const SIMPLE_BAD = SIMPLE_V1.replace("int32 weight_grams = 2;", "string weight_grams = 2;");

/** The order event's message type, as generated code of protobuf-es would give it, from the files buf compiles. */
async function orderType(): Promise<{ desc: DescMessage; registry: ReturnType<typeof createMutableRegistry> }> {
  const set = fromBinary(
    FileDescriptorSetSchema,
    await compileProtoText({ name: "acme/orders/v1/orders.proto", text: ORDER }, [{ name: "acme/common/v1/money.proto", text: MONEY }]),
  );
  const files = createFileRegistry(set);
  const desc = files.getMessage("acme.orders.v1.OrderPlaced")!;
  return { desc, registry: createMutableRegistry(files.getFile("acme/orders/v1/orders.proto")!) };
}

async function restError(p: Promise<unknown>): Promise<{ status: number; errorCode: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as RestError;
    return { status: e.status, errorCode: e.errorCode };
  }
  throw new Error("expected a failure");
}

describe("Confluent's clients against Chronicle's registry (JetStream KV, real HTTP)", () => {
  let nats: LocalServer;
  let server: RegistryServer;
  let client: SchemaRegistryClient;

  beforeAll(async () => {
    nats = await startLocalServer();
    server = await startRegistryServer({ nats: nats.url, auth: { tokens } });
    client = new SchemaRegistryClient({
      baseURLs: [server.url],
      basicAuthCredentials: { credentialsSource: "USER_INFO", userInfo: `ops:${ADMIN}` },
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.stop();
  });

  it("@confluentinc/schemaregistry: register, lookup, latest, by id, config, compatibility, delete", async () => {
    const v1: SchemaInfo = { schema: SIMPLE_V1, schemaType: "PROTOBUF" };
    const v2: SchemaInfo = { schema: SIMPLE_V2, schemaType: "PROTOBUF" };
    const id1 = await client.register("parcels-value", v1);
    expect(await client.getId("parcels-value", v1)).toBe(id1);
    expect(await client.getVersion("parcels-value", v1)).toBe(1);

    await client.updateCompatibility("parcels-value", Compatibility.BACKWARD);
    expect(await client.getCompatibility("parcels-value")).toBe(Compatibility.BACKWARD);
    await client.updateDefaultCompatibility(Compatibility.FULL_TRANSITIVE);
    expect(await client.getDefaultCompatibility()).toBe(Compatibility.FULL_TRANSITIVE);

    expect(await client.testSubjectCompatibility("parcels-value", v2)).toBe(true);
    expect(await client.testCompatibility("parcels-value", 1, { schema: SIMPLE_BAD, schemaType: "PROTOBUF" })).toBe(false);
    expect(await restError(client.register("parcels-value", { schema: SIMPLE_BAD, schemaType: "PROTOBUF" }))).toEqual({ status: 409, errorCode: 409 });

    const id2 = await client.register("parcels-value", v2);
    expect(id2).not.toBe(id1);
    const latest = await client.getLatestSchemaMetadata("parcels-value");
    expect(latest).toMatchObject({ id: id2, version: 2, subject: "parcels-value", schemaType: "PROTOBUF" });
    expect(latest.schema).toContain("string carrier = 3;");
    expect((await client.getSchemaMetadata("parcels-value", 1)).id).toBe(id1);
    const byId = await client.getBySubjectAndId("parcels-value", id1);
    expect(byId.schema).toContain("message ParcelShipped {");
    expect(await client.getAllSubjects()).toContain("parcels-value");
    expect(await client.getAllVersions("parcels-value")).toEqual([1, 2]);

    expect(await client.deleteSubjectVersion("parcels-value", 2)).toBe(2);
    expect(await client.getAllVersions("parcels-value")).toEqual([1]);
    expect(await client.deleteSubject("parcels-value")).toEqual([1]);
    expect(await client.deleteSubject("parcels-value", true)).toEqual([1, 2]);
    expect(await restError(client.getAllVersions("parcels-value"))).toEqual({ status: 404, errorCode: 40401 });
  });

  it("@confluentinc/schemaregistry: its Protobuf serializer registers the schema and its reference, and its deserializer reads the event back", async () => {
    const { desc, registry } = await orderType();
    const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, registry });
    const deserializer = new ProtobufDeserializer(client, SerdeType.VALUE, {});
    const placedAt = timestampFromDate(new Date("2026-12-03T10:00:00Z"));
    const event = create(desc, {
      orderId: "o-1",
      total: { cents: 1250n, currency: "EUR" },
      placedAt,
      skus: ["a", "b"],
    });
    const bytes = await serializer.serialize("orders", event);
    // Confluent's wire format: magic byte 0, the 4-byte id, message index [0] as one 0 byte, then the message
    expect(bytes[0]).toBe(0);
    const id = bytes.readUInt32BE(1);
    expect(bytes[5]).toBe(0);
    expect(await client.getAllSubjects()).toEqual(expect.arrayContaining(["acme/common/v1/money.proto", "orders-value"]));
    const stored = await client.getLatestSchemaMetadata("orders-value");
    expect(stored.id).toBe(id);
    expect(stored.references).toEqual([{ name: "acme/common/v1/money.proto", subject: "acme/common/v1/money.proto", version: 1 }]);

    const back = (await deserializer.deserialize("orders", bytes)) as Record<string, unknown>;
    expect(back["orderId"]).toBe("o-1");
    expect(back["total"]).toMatchObject({ cents: 1250n, currency: "EUR" });
    expect(back["placedAt"]).toMatchObject({ seconds: placedAt.seconds, nanos: 0 });
    expect(back["skus"]).toEqual(["a", "b"]);

    // a second serializer (another service) finds the same id without registering anything new
    const again = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, registry });
    expect((await again.serialize("orders", event)).readUInt32BE(1)).toBe(id);
    expect(await client.getAllVersions("orders-value")).toEqual([1]);
  });

  it("@kafkajs/confluent-schema-registry: registers text, encodes and decodes, and decodes what Confluent's serializer wrote", async () => {
    const kafkajs = new SchemaRegistry({ host: server.url, auth: { username: "ops", password: ADMIN } });
    const { id } = await kafkajs.register({ type: SchemaType.PROTOBUF, schema: SIMPLE_V1 }, { subject: "shipping-value" });
    expect(await kafkajs.getLatestSchemaId("shipping-value")).toBe(id);
    expect(await kafkajs.getRegistryId("shipping-value", 1)).toBe(id);
    // its own round trip parses the .proto text Chronicle renders (protobufjs)
    const encoded = await kafkajs.encode(id, { parcelId: "p-9", weightGrams: 1200 });
    expect(await kafkajs.decode(encoded)).toMatchObject({ parcelId: "p-9", weightGrams: 1200 });

    // Confluent's serializer, sending the same schema as a descriptor with its own file name, finds the same version
    const files = createFileRegistry(
      fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: "acme/shipping/v1/shipping.proto", text: SIMPLE_V1 }, [])),
    );
    const registry = createMutableRegistry(files.getFile("acme/shipping/v1/shipping.proto")!);
    const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, registry });
    const bytes = await serializer.serialize("shipping", create(files.getMessage("acme.shipping.v1.ParcelShipped")!, { parcelId: "p-10", weightGrams: 800 }));
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(await client.getAllVersions("shipping-value")).toEqual([1]);
    expect(await kafkajs.decode(bytes)).toMatchObject({ parcelId: "p-10", weightGrams: 800 });
  });
});
