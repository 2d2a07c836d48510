// ce-dataschema end to end: the generated definition carries the schema id
// the registry gives the event's schema, a producer with the registry's URL
// sends `<url>/schemas/ids/<id>`, a handler reads it from its context, and
// the URL answers that exact schema.
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createRegistryClient, extractSubjectSchema, schemaId, startRegistryServer } from "@chronicle/registry";
import { connect, ensureStream, schemaIdOfDataSchema } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { compileProtos } from "../testing/compile-protos.js";
import { createOrdersProducer, ordersStream, partialOrdersHandlers, startOrdersConsumer } from "../../testdata/gen/acme/orders/v1/orders_chronicle.js";

const PROTO = "acme/orders/v1/orders.proto";

describe("ce-dataschema", () => {
  it("is the registry's URL of the event's exact schema, readable by the handler", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const registry = await startRegistryServer({ nats: server.url, port: 0, auth: { tokens: [], anonymousAdmin: true } });
    try {
      // what `chronicle schema push` registers for the event
      const { image } = compileProtos({ [PROTO]: readFileSync(new URL(`../../testdata/proto/${PROTO}`, import.meta.url), "utf8") });
      const client = createRegistryClient({ baseUrl: registry.url });
      const registered = await client.register("acme.orders.v1.OrderPlaced", extractSubjectSchema(image, "acme.orders.v1.OrderPlaced"));
      expect(ordersStream.events.OrderPlaced.schemaId).toBe(registered.id);

      await ensureStream(conn, ordersStream);
      const producer = createOrdersProducer(conn, { schemaRegistryUrl: `${registry.url}/` });
      await producer.publishOrderPlaced({ orderId: "o-1", requestId: "r-1" });
      await producer.close();
      let header: string | undefined;
      let got!: () => void;
      const handled = new Promise<void>((resolve) => (got = resolve));
      const member = await startOrdersConsumer(conn, {
        group: "schemas",
        handlers: partialOrdersHandlers({
          async OrderPlaced(_event, ctx) {
            header = ctx.headers["ce-dataschema"];
            got();
          },
        }),
      });
      await handled;
      await member.stop();

      expect(header).toBe(`${registry.url}/schemas/ids/${registered.id}`);
      expect(schemaIdOfDataSchema(header)).toBe(registered.id);
      const res = await fetch(header!);
      expect(res.status).toBe(200);
      expect(schemaId(fromBinary(FileDescriptorSetSchema, new Uint8Array(await res.arrayBuffer())))).toBe(registered.id);
    } finally {
      await registry.close();
    }
  });

  it("names the schema by id alone when the producer has no registry URL", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await ensureStream(conn, ordersStream);
    const producer = createOrdersProducer(conn);
    const r = await producer.publishOrderPlaced({ orderId: "o-2", requestId: "r-2" });
    await producer.close();
    const stored = await conn.jsm.streams.getMessage("orders", { seq: r.sequence });
    const value = stored?.header.get("ce-dataschema");
    expect(value).toBe(`chronicle:schema:${ordersStream.events.OrderPlaced.schemaId}`);
    expect(schemaIdOfDataSchema(value)).toBe(ordersStream.events.OrderPlaced.schemaId);
  });
});
