import { describe, expect, it } from "vitest";
import { connect, type ChronicleConnection } from "../index.js";
import { startLocalCluster, startLocalServer } from "@chronicle/testing";
import { isChronicleError } from "../errors.js";
import { partitionOf } from "../layout/partition.js";
import { replay, replayStored } from "../replay/replay.js";
import { ensureStream } from "../streams/provision.js";
import { TEST_PLACED_SCHEMA_ID, testStream } from "../streams/test-fixtures.js";
import { wireOf } from "../wire/select-wire.js";
import { createProducer } from "./create-producer.js";
import type { PublishResult } from "./types.js";

const KEYS = 1000;

/** Resolves when the connection reports its next disconnect. */
async function disconnectOf(conn: ChronicleConnection): Promise<void> {
  for await (const s of conn.nc.status()) if (s.type === "disconnect") return;
}

describe("producer", () => {
  it("stores 100k events over 1,000 keys exactly once, in key order, each in its key's partition; a repeat of 10k stores none", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "orders", partitions: 16 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const total = 100_000;
    const started = Date.now();
    const results: Promise<PublishResult>[] = [];
    for (let i = 0; i < total; i++) {
      // every key gets a counter in n; the dedup key is stable so the repeat below dedups
      results.push(producer.publish("OrderPlaced", { orderId: `key-${i % KEYS}`, n: BigInt(i) }, { dedupKey: `ev-${i}` }));
      if (i % 10_000 === 9_999) await results[i]; // let acks flow while we queue
    }
    const acks = await Promise.all(results);
    const publishMs = Date.now() - started;
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    expect(new Set(acks.map((a) => a.sequence)).size).toBe(total);

    const readStarted = Date.now();
    const lastN = new Map<string, bigint>();
    const seen = new Set<bigint>();
    for await (const r of replay(conn, def)) {
      if (r.name !== "OrderPlaced") throw new Error("unexpected event");
      const { orderId, n } = r.event as unknown as { orderId: string; n: bigint };
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      const prev = lastN.get(orderId);
      if (prev !== undefined && prev >= n) throw new Error(`key ${orderId}: ${n} after ${prev}`);
      lastN.set(orderId, n);
      if (r.meta.partition !== partitionOf(orderId, 16)) throw new Error(`key ${orderId} in partition ${r.meta.partition}`);
    }
    expect(seen.size).toBe(total);
    expect(lastN.size).toBe(KEYS);
    const readMs = Date.now() - readStarted;

    // the same 10k events again, inside the duplicate window: nothing new is stored
    const repeat = await producer.publishBatch(
      Array.from({ length: 10_000 }, (_, i) => ({
        name: "OrderPlaced" as const,
        event: { orderId: `key-${i % KEYS}`, n: BigInt(i) },
        options: { dedupKey: `ev-${i}` },
      })),
    );
    expect(repeat.every((r) => r.duplicate)).toBe(true);
    expect(repeat.map((r) => r.sequence)).toEqual(acks.slice(0, 10_000).map((a) => a.sequence));
    expect((await conn.jsm.streams.info("orders")).state.messages).toBe(total);
    const report = await producer.close();
    expect(report).toEqual({ acknowledged: total + 10_000, failed: [] });
    console.log(`100k events: published in ${publishMs} ms, read back in ${readMs} ms`);
  }, 90_000);

  it("survives a SIGKILL and restart of the server: every resolved publish is stored exactly once", async () => {
    await using server = await startLocalServer();
    const conn = await connect({ servers: server.url });
    const def = testStream({ name: "crash", partitions: 4 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { ackTimeoutMs: 1000, maxInFlight: 2000 });
    const total = 20_000;
    let acked = 0;
    const outcomes = Array.from({ length: total }, (_, i) =>
      producer.publish("OrderPlaced", { orderId: `k${i % 100}`, n: BigInt(i) }, { dedupKey: `c-${i}` }).then(
        (r) => {
          acked++;
          return r;
        },
        (e: unknown) => e as Error,
      ),
    );
    while (acked < 4_000) await new Promise((r) => setTimeout(r, 5));
    const disconnected = disconnectOf(conn);
    await server.kill("SIGKILL");
    await disconnected; // the client has seen the server go
    await server.restart();
    const settled = await Promise.all(outcomes);
    const resolved = settled.filter((s): s is PublishResult => !(s instanceof Error));
    const failed = settled.length - resolved.length;
    const retried = resolved.filter((r) => r.attempts > 1).length;

    const count = new Map<string, number>();
    for await (const s of replayStored(conn, "crash")) count.set(s.headers["Nats-Msg-Id"]!, (count.get(s.headers["Nats-Msg-Id"]!) ?? 0) + 1);
    for (const r of resolved) expect(count.get(r.dedupKey), r.dedupKey).toBe(1);
    expect([...count.values()].every((c) => c === 1)).toBe(true);
    expect(failed).toBe(0);
    expect(retried).toBeGreaterThan(0);
    expect((await producer.close()).failed).toEqual([]);
    await conn.close();
    console.log(`crash test: ${resolved.length} resolved, ${retried} after a retry, ${failed} failed`);
  }, 90_000);

  it("keeps every resolved publish exactly once on a 3-node cluster when the stream leader is killed", async () => {
    await using cluster = await startLocalCluster({ nodes: 3 });
    await using conn = await connect({ servers: cluster.urls });
    const def = testStream({ name: "r3", partitions: 4, replicas: 3 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { ackTimeoutMs: 1000 });
    const total = 5_000;
    let acked = 0;
    const outcomes = Array.from({ length: total }, (_, i) =>
      producer.publish("OrderPlaced", { orderId: `k${i % 50}`, n: BigInt(i) }, { dedupKey: `r-${i}` }).then(
        (r) => (acked++, r),
        (e: unknown) => e as Error,
      ),
    );
    while (acked < 1_000) await new Promise((r) => setTimeout(r, 5));
    const leader = (await conn.jsm.streams.info("r3")).cluster?.leader;
    await cluster.server(leader!).kill("SIGKILL");
    const settled = await Promise.all(outcomes);
    const failed = settled.filter((s) => s instanceof Error);
    expect(failed).toEqual([]);
    const count = new Map<string, number>();
    for await (const s of replayStored(conn, "r3")) count.set(s.headers["Nats-Msg-Id"]!, (count.get(s.headers["Nats-Msg-Id"]!) ?? 0) + 1);
    expect(count.size).toBe(total);
    expect([...count.values()].every((c) => c === 1)).toBe(true);
    await producer.close();
  }, 90_000);

  it("sends again with the same dedup key when an ack is late, storing each event once", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "late", partitions: 2 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { ackTimeoutMs: 200 });
    await server.kill("SIGSTOP");
    const sentBefore = conn.nc.stats().outMsgs;
    const pending = Array.from({ length: 200 }, (_, i) => producer.publish("OrderPlaced", { orderId: `k${i % 5}`, n: BigInt(i) }));
    // every event sent, its ack overdue, and sent again
    while (conn.nc.stats().outMsgs - sentBefore < 400) await new Promise((r) => setTimeout(r, 10));
    await server.kill("SIGCONT");
    const results = await Promise.all(pending);
    expect(results.every((r) => r.attempts > 1)).toBe(true);
    expect(new Set(results.map((r) => r.sequence)).size).toBe(200);
    expect((await conn.jsm.streams.info("late")).state.messages).toBe(200);
    expect((await producer.close()).failed).toEqual([]);
  });

  it("writes CloudEvents binary-mode headers and the dedup key", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "ce", partitions: 8 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { source: "/svc/orders" });
    const time = new Date("2026-01-02T03:04:05.678Z");
    const weird = " a.b *>\n日本 ";
    const r1 = await producer.publish("OrderPlaced", { orderId: "o-1" }, { id: "evt-1", time, headers: { "x-extra": "yes" } });
    const r2 = await producer.publish("OrderShipped", { orderId: weird, carrier: "ups" });
    expect(r1).toMatchObject({ id: "evt-1", dedupKey: "evt-1", duplicate: false, partition: partitionOf("o-1", 8), attempts: 1 });
    expect(r2.partition).toBe(partitionOf(weird, 8));
    const stored = [];
    for await (const s of replayStored(conn, "ce")) stored.push(s);
    expect(stored[0]!.headers).toMatchObject({
      "ce-specversion": "1.0",
      "ce-id": "evt-1",
      "ce-type": "test.v1.OrderPlaced",
      "ce-source": "/svc/orders",
      "ce-time": "2026-01-02T03:04:05.678Z",
      "ce-dataschema": `chronicle:schema:${TEST_PLACED_SCHEMA_ID}`,
      "ce-partitionkey": "o-1",
      "content-type": "application/protobuf",
      "Nats-Msg-Id": "evt-1",
      "x-extra": "yes",
    });
    expect(stored[0]!.subject).toBe(`ce.${partitionOf("o-1", 8)}.OrderPlaced.o-1`);
    expect(stored[1]!.headers["ce-dataschema"]).toBeUndefined();
    expect(stored[1]!.key).toBe(weird);
    expect(stored[1]!.headers["ce-id"]).toBe(r2.id);
    expect(Date.now() - new Date(stored[1]!.headers["ce-time"]!).getTime()).toBeLessThan(60_000);
    await producer.close();
  });

  it("supports optimistic concurrency per key and reports typed errors", async () => {
    await using server = await startLocalServer({ maxPayload: 64 * 1024 });
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "occ", partitions: 4 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const first = await producer.publish("OrderPlaced", { orderId: "a" }, { expectedLastSequence: 0 });
    await producer.publish("OrderPlaced", { orderId: "b" });
    // another type of the same key counts: the check is per key, not per subject
    const second = await producer.publish("OrderShipped", { orderId: "a" }, { expectedLastSequence: first.sequence });
    await expect(producer.publish("OrderPlaced", { orderId: "a" }, { expectedLastSequence: first.sequence })).rejects.toSatisfy(
      (e) => isChronicleError(e, "wrong_last_sequence") && e.context.stream === "occ",
    );
    await expect(producer.publish("OrderPlaced", { orderId: "a" }, { expectedLastSequence: 0 })).rejects.toSatisfy((e) =>
      isChronicleError(e, "wrong_last_sequence"),
    );
    await producer.publish("OrderPlaced", { orderId: "a" }, { expectedLastSequence: second.sequence });

    await expect(producer.publish("OrderPlaced", { orderId: "big", body: new Uint8Array(100 * 1024) })).rejects.toSatisfy(
      (e) => isChronicleError(e, "payload_too_large") && e.context.maxPayload === 64 * 1024,
    );
    await expect(producer.publish("Nope" as "OrderPlaced", { orderId: "x" })).rejects.toSatisfy((e) => isChronicleError(e, "invalid_argument"));

    const missing = createProducer(conn, testStream({ name: "missing" }));
    await expect(missing.publish("OrderPlaced", { orderId: "x" })).rejects.toSatisfy((e) => isChronicleError(e, "not_found") && e.context.stream === "missing");
    const report = await missing.close();
    expect(report.failed.map((f) => (f.error as { code?: string }).code)).toEqual(["not_found"]);

    const closing = producer.close();
    await expect(producer.publish("OrderPlaced", { orderId: "late" })).rejects.toSatisfy((e) => isChronicleError(e, "closed"));
    expect((await closing).failed.map((f) => (f.error as { code?: string }).code).sort()).toEqual([
      "payload_too_large",
      "wrong_last_sequence",
      "wrong_last_sequence",
    ]);
  });

  it("stores the same events, byte for byte, through the internal and the public wire", async () => {
    await using server = await startLocalServer();
    const time = new Date("2026-03-04T05:06:07.089Z");
    const events = [
      { orderId: "a", n: 1n },
      { orderId: "日本 x", n: 2n, body: new Uint8Array(5000).fill(3) }, // over 2 KiB: not copied into the slab
      { orderId: "a", n: 3n, body: new Uint8Array(100).fill(9) },
    ];
    const stored: Record<string, { subject: string; headers: Record<string, string>; data: Uint8Array }[]> = {};
    for (const wire of ["internal", "public"] as const) {
      await using conn = await connect({ servers: server.url, wire });
      expect(wireOf(conn).kind).toBe(wire);
      const def = testStream({ name: wire, partitions: 4 });
      await ensureStream(conn, def);
      const producer = createProducer(conn, def, { source: "/svc/orders" });
      const sentBefore = conn.nc.stats().outMsgs;
      const results = await Promise.all(
        events.map((e, i) =>
          producer.publish("OrderPlaced", e, { id: `id-${i}`, time, headers: { "x-n": String(i) }, ...(i === 2 ? { dedupKey: "d-2" } : {}) }),
        ),
      );
      expect(results.map((r) => [r.sequence, r.duplicate, r.attempts])).toEqual([
        [1, false, 1],
        [2, false, 1],
        [3, false, 1],
      ]);
      expect(conn.nc.stats().outMsgs - sentBefore).toBeGreaterThanOrEqual(3); // both wires count what they send
      expect((await producer.publish("OrderPlaced", events[2]!, { dedupKey: "d-2" })).duplicate).toBe(true);
      await producer.close();
      const got = [];
      for await (const s of replayStored(conn, wire)) got.push({ subject: s.subject.slice(wire.length), headers: s.headers, data: s.data });
      stored[wire] = got;
    }
    expect(stored["internal"]).toHaveLength(3);
    expect(stored["internal"]).toEqual(stored["public"]);
  });

  it("close() waits for every publish in flight; an acknowledged event is never lost", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "closing", partitions: 2 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def, { maxInFlight: 100 });
    let resolved = 0;
    const all = Array.from({ length: 3000 }, (_, i) => producer.publish("OrderPlaced", { orderId: `k${i % 7}` }).then(() => resolved++));
    const report = await producer.close();
    expect(resolved).toBe(3000);
    expect(report).toEqual({ acknowledged: 3000, failed: [] });
    await Promise.all(all);
    expect((await conn.jsm.streams.info("closing")).state.messages).toBe(3000);
  });
});
