import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { startRegistryServer } from "@chronicle/registry";
import { connect, createProducer, decodeEventPayload, ensureStream, isChronicleError, replay, replayStored, startConsumerGroup } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { ProtobufDeserializer, ProtobufSerializer, SchemaRegistryClient, SerdeType } from "@confluentinc/schemaregistry";
import { createMutableRegistry } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { testRegistry, testStream } from "../../runtime/src/streams/test-fixtures.js";

const TOKEN = "ops-token-0123456789abcdef";

describe("events in Confluent's wire format, through Chronicle's registry", () => {
  it("a producer frames events with the registry's integer id; Confluent's deserializer and Chronicle's replay read them; Chronicle reads Confluent's serializer", async () => {
    await using nats = await startLocalServer();
    await using registryServer = await startRegistryServer({ nats: nats.url, auth: { tokens: [{ name: "ops", role: "admin", token: TOKEN }] } });
    await using conn = await connect({ servers: nats.url });
    const { placed, shipped } = testRegistry();

    // the events' file, registered through the Confluent API as Confluent's serializers send it
    const schema = Buffer.from(toBinary(FileDescriptorProtoSchema, placed.file.proto)).toString("base64");
    const register = async (subject: string) => {
      const res = await fetch(`${registryServer.url}/subjects/${subject}/versions`, {
        method: "POST",
        headers: { "content-type": "application/vnd.schemaregistry.v1+json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ schemaType: "PROTOBUF", schema }),
      });
      return ((await res.json()) as { id: number }).id;
    };
    const placedId = await register("test.v1.OrderPlaced");
    const shippedId = await register("test.v1.OrderShipped");
    expect(shippedId).toBe(placedId); // one file, one schema: the message index tells the events apart
    expect(await register("shipments-value")).toBe(placedId);

    const def = testStream({ name: "bridged", partitions: 2 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { confluentWireFormat: { schemaIds: { "test.v1.OrderPlaced": placedId, "test.v1.OrderShipped": shippedId } } });
    await producer.publish("OrderPlaced", { orderId: "o-1", n: 42n });
    await producer.publish("OrderShipped", { orderId: "o-1", carrier: "dhl" });
    await producer.close();

    const stored: Uint8Array[] = [];
    for await (const s of replayStored(conn, "bridged")) stored.push(s.data);
    expect(stored).toHaveLength(2);
    const head = (b: Uint8Array) => Buffer.from(b.subarray(0, 7)).toString("hex");
    const id = placedId.toString(16).padStart(8, "0");
    expect(head(stored[0]!).startsWith(`00${id}00`)).toBe(true); // [0]: one 0 byte
    expect(head(stored[1]!)).toBe(`00${id}0202`); // [1]: count 1, index 1, zig-zag

    const client = new SchemaRegistryClient({
      baseURLs: [registryServer.url],
      basicAuthCredentials: { credentialsSource: "USER_INFO", userInfo: `ops:${TOKEN}` },
    });
    try {
      const deserializer = new ProtobufDeserializer(client, SerdeType.VALUE, {});
      expect(await deserializer.deserialize("bridged", Buffer.from(stored[0]!))).toMatchObject({ orderId: "o-1", n: 42n });
      expect(await deserializer.deserialize("bridged", Buffer.from(stored[1]!))).toMatchObject({ orderId: "o-1", carrier: "dhl" });

      const events: unknown[] = [];
      for await (const r of replay(conn, def)) events.push(r.event);
      expect(events).toMatchObject([
        { orderId: "o-1", n: 42n },
        { orderId: "o-1", carrier: "dhl" },
      ]);

      // a consumer group decodes them too
      const handled: unknown[] = [];
      const member = await startConsumerGroup(conn, def, {
        group: "bridge-readers",
        onError: () => undefined,
        handlers: { OrderPlaced: async (e) => void handled.push(e), OrderShipped: async (e) => void handled.push(e) },
      });
      try {
        const deadline = Date.now() + 30_000;
        while (handled.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(handled).toEqual(expect.arrayContaining([expect.objectContaining({ n: 42n }), expect.objectContaining({ carrier: "dhl" })]));
      } finally {
        await member.stop();
      }

      // what Confluent's serializer writes, Chronicle decodes; a frame naming another message of the file is refused
      const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { useLatestVersion: true, registry: createMutableRegistry(placed.file) });
      const fromConfluent = await serializer.serialize("shipments", { $typeName: "test.v1.OrderShipped", orderId: "o-2", carrier: "ups" });
      expect(decodeEventPayload(shipped, fromConfluent)).toMatchObject({ orderId: "o-2", carrier: "ups" });
      let refused: unknown;
      try {
        decodeEventPayload(placed, fromConfluent);
      } catch (err) {
        refused = err;
      }
      expect(isChronicleError(refused) && refused.code === "decode_failed" && /names message \[1\]/.test(refused.message)).toBe(true);
    } finally {
      await client.close();
    }
  });
});
