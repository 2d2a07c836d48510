import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import {
  ChronicleError,
  ErrorCode,
  connect,
  createKvIdempotencyStore,
  createMemoryIdempotencyStore,
  type ChronicleConnection,
  type IdempotencyStore,
} from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { Headers, PROTOBUF_CONTENT_TYPE } from "../layout/headers.js";
import { layout } from "../layout/subjects.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import { createTestStreams, noteStream } from "./testing/test-stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes a note with `ce-id` = `id` under its own `Nats-Msg-Id`, so the stream stores it even when `id` repeats. */
async function publishWithId(conn: ChronicleConnection, stream: string, key: string, value: string, id: string, msgId: string): Promise<number> {
  const h = natsHeaders();
  h.set(Headers.Id, id);
  h.set(Headers.Type, "google.protobuf.StringValue");
  h.set(Headers.PartitionKey, key);
  h.set(Headers.ContentType, PROTOBUF_CONTENT_TYPE);
  const data = toBinary(StringValueSchema, create(StringValueSchema, { value }));
  return (await conn.js.publish(layout.publishSubject(stream, "Note", key), data, { headers: h, msgID: msgId })).seq;
}

describe("KV idempotency store", () => {
  it("answers lookups in batches: held keys, missing keys, deleted keys, more than one request's worth", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const store = await createKvIdempotencyStore(conn, { stream: "idem" });
    const keys = Array.from({ length: 700 }, (_, i) => `g.e0.k${i}`);
    await Promise.all(keys.filter((_, i) => i % 3 === 0).map((k) => store.markDone(k)));
    const kv = await new Kvm(conn.js).open(store.bucket);
    await kv.delete("g.e0.k3");
    const answers = await Promise.all([...keys, "g.e0.k0"].map((k) => store.isDone(k)));
    expect(answers.slice(0, 700).map((a, i) => a === (i % 3 === 0 && i !== 3))).not.toContain(false);
    expect(answers[700]).toBe(true); // the same key twice in one batch
    await store.close?.();
    await expect(store.isDone("g.e0.k1")).rejects.toThrow(/closed/);
  });
});

describe("a consumer group with idempotency from its partition state", () => {
  it("absorbs an event re-published with the same idempotency key: right behind its original, and later", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("repub", 2);
    await createTestStreams(conn, def);
    // Original and duplicate stored before the member starts: they arrive in the same pull, looked up together.
    await publishWithId(conn, "repub", "a", "a:0", "evt-a", "m1");
    await publishWithId(conn, "repub", "a", "a:0-again", "evt-a", "m2");
    await publishWithId(conn, "repub", "b", "b:0", "evt-b", "m3");
    const handled: string[] = [];
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      onError: () => undefined,
      handlers: { Note: async (e) => void handled.push(e.value) },
    });
    const until = async (n: number) => {
      const deadline = Date.now() + 15_000;
      while (member.metrics().handled + member.metrics().duplicates < n && Date.now() < deadline) await sleep(20);
    };
    await until(3);
    // A third copy, published after the record was stored.
    await publishWithId(conn, "repub", "a", "a:0-later", "evt-a", "m4");
    await until(4);
    await sleep(200);
    expect(handled.sort()).toEqual(["a:0", "b:0"]);
    expect(member.metrics().duplicates).toBe(2);
    await member.stop();
  });
});

describe("a store that does not answer", () => {
  it("the KV store sends its lookups and records in flight again on a reconnect: a server restart costs the reconnect, not timeoutMs", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const store = await createKvIdempotencyStore(conn, { stream: "resend", timeoutMs: 30_000 });
    await store.markDone("g.e0.held");
    // A stopped server reads nothing: what is sent now is on the wire when it dies.
    await server.kill("SIGSTOP");
    const t0 = Date.now();
    const answers = Promise.all([store.isDone("g.e0.held"), store.isDone("g.e0.new"), store.markDone("g.e0.written")]);
    await sleep(100);
    await server.restart();
    expect((await answers).slice(0, 2)).toEqual([true, false]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await store.isDone("g.e0.written")).toBe(true);
    await store.close?.();
  });

  it("a lookup that fails is asked again in place: the events wait, are handled once, and use up no attempt", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("outage", 2);
    await createTestStreams(conn, def);
    const memory = createMemoryIdempotencyStore();
    let down = true;
    const store: IdempotencyStore = {
      isDone: async (key) => {
        if (down) throw new ChronicleError(ErrorCode.Unavailable, `store down: no answer for ${key}`);
        return memory.isDone(key);
      },
      markDone: (key) => memory.markDone(key),
    };
    for (let i = 0; i < 20; i++) await publishWithId(conn, "outage", `k${i % 4}`, `k${i % 4}:${i}`, `e${i}`, `m${i}`);
    const handled: { v: string; attempt: number }[] = [];
    const errors: string[] = [];
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      store,
      onError: (err) => void errors.push((err as Error).message),
      handlers: { Note: async (e, ctx) => void handled.push({ v: e.value, attempt: ctx.attempt }) },
    });
    await sleep(2500);
    expect(handled).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/store down: no answer for g\.e0\.Note\.e\d+/);
    down = false;
    const deadline = Date.now() + 10_000;
    while (handled.length < 20 && Date.now() < deadline) await sleep(20);
    await sleep(200);
    expect(handled.map((h) => h.v).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i % 4}:${i}`).sort());
    expect(handled.filter((h) => h.attempt !== 1)).toEqual([]);
    // per key, in stream order
    for (let k = 0; k < 4; k++) {
      const order = handled.filter((h) => h.v.startsWith(`k${k}:`)).map((h) => Number(h.v.split(":")[1]));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    await member.stop();
  });
});
