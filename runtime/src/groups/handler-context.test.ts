import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { connect, createProducer, type EventContext } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { layout } from "../layout/subjects.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import { createTestStreams, noteStream } from "./testing/test-stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the handler context", () => {
  it("carries the event's metadata; time and headers are read on first use, included by JSON, not copied by a spread", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("ctx", 2);
    await createTestStreams(conn, def);
    const producer = createProducer(conn, def);
    const time = new Date("2026-01-02T03:04:05.678Z");
    const sent = await producer.publish("Note", { value: "k1:0" }, { id: "evt-1", time, headers: { "x-tenant": "acme" } });
    await producer.close();
    // a message from a plain NATS client: no CloudEvents headers, no ce-time
    const before = Date.now();
    await conn.js.publish(layout.publishSubject("ctx", "Note", "k2"), toBinary(StringValueSchema, create(StringValueSchema, { value: "k2:1" })));
    const seen = new Map<string, { ctx: EventContext; json: Record<string, unknown>; spread: Record<string, unknown> }>();
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      onError: () => undefined,
      handlers: {
        Note: async (e, ctx) => {
          seen.set(e.value, { ctx, json: JSON.parse(JSON.stringify(ctx)) as Record<string, unknown>, spread: { ...ctx } });
        },
      },
    });
    const deadline = Date.now() + 10_000;
    while (seen.size < 2 && Date.now() < deadline) await sleep(20);
    await member.stop();

    const first = seen.get("k1:0")!;
    expect(first.ctx).toMatchObject({
      id: "evt-1",
      type: "google.protobuf.StringValue",
      name: "Note",
      key: "k1",
      idempotencyKey: "evt-1",
      stream: "ctx",
      partition: sent.partition,
      sequence: sent.sequence,
      attempt: 1,
    });
    expect(first.ctx.time.toISOString()).toBe(time.toISOString());
    expect(first.ctx.time).toBe(first.ctx.time); // read once
    expect(first.ctx.headers).toMatchObject({ "ce-id": "evt-1", "x-tenant": "acme", "ce-time": time.toISOString() });
    expect(first.json).toMatchObject({ id: "evt-1", sequence: sent.sequence, time: time.toISOString(), headers: { "x-tenant": "acme" } });
    expect(first.json).not.toHaveProperty("signal");
    expect(first.spread).toMatchObject({ id: "evt-1", sequence: sent.sequence });
    expect(first.spread).not.toHaveProperty("headers");

    const plain = seen.get("k2:1")!;
    expect(plain.ctx.key).toBe("k2");
    // without ce-time, the time the server stored it
    expect(plain.ctx.time.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(plain.ctx.time.getTime()).toBeLessThanOrEqual(Date.now());
    // a message published with no headers has none
    expect(plain.ctx.headers).toEqual({});
  });
});
