import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { isChronicleError } from "../errors.js";
import { partitionOf } from "../layout/partition.js";
import { createProducer } from "../producer/create-producer.js";
import { ensureStream } from "../streams/provision.js";
import { testStream } from "../streams/test-fixtures.js";
import { replay, replayFilter, replayStored } from "./replay.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("replay", () => {
  it("reads a stream, a partition, a key or an event type, from the start, a sequence or a time", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "orders", partitions: 4 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const keys = ["a", "b", "c.d", "日本", ""];
    for (let i = 0; i < 50; i++)
      await producer.publish(i % 2 ? "OrderShipped" : "OrderPlaced", { orderId: keys[i % keys.length]!, ...(i % 2 ? { carrier: `c${i}` } : { n: BigInt(i) }) });
    // Date.now() has ms precision, stored times ns: leave a gap on both sides
    await new Promise((r) => setTimeout(r, 20));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 50; i < 60; i++) await producer.publish("OrderPlaced", { orderId: "late", n: BigInt(i) });
    await producer.close();

    const all = await collect(replay(conn, def));
    expect(all.map((e) => e.meta.sequence)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const first = all[0]!;
    expect((first.event as unknown as { orderId: string }).orderId).toBe("a");
    expect(all[1]!.name).toBe("OrderShipped");

    const byKey = await collect(replay(conn, def, { key: "c.d" }));
    expect(byKey).toHaveLength(10);
    expect(byKey.every((e) => e.meta.key === "c.d" && e.meta.partition === partitionOf("c.d", 4))).toBe(true);
    expect((await collect(replay(conn, def, { key: "" }))).length).toBe(10);

    const p = partitionOf("a", 4);
    const byPartition = await collect(replayStored(conn, "orders", { partition: p }));
    expect(byPartition.length).toBeGreaterThan(0);
    expect(byPartition.every((e) => e.partition === p)).toBe(true);
    expect(byPartition.length).toBe(all.filter((e) => e.meta.partition === p).length);

    const shipped = await collect(replay(conn, def, { event: "OrderShipped" }));
    expect(shipped).toHaveLength(25);
    expect(shipped.every((e) => e.name === "OrderShipped" && e.meta.type === "test.v1.OrderShipped")).toBe(true);
    expect(await collect(replay(conn, def, { event: "OrderShipped", key: "a" }))).toHaveLength(5);

    expect((await collect(replayStored(conn, "orders", { from: { sequence: 41 } }))).map((e) => e.sequence)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 41),
    );
    const fromTime = await collect(replayStored(conn, "orders", { from: { time: new Date(middle) } }));
    expect(fromTime.map((e) => e.key)).toEqual(new Array(10).fill("late"));
    expect(await collect(replayStored(conn, "orders", { key: "nobody" }))).toEqual([]);
    expect(replayFilter("orders", { partition: 2, key: "a.b" })).toBe("orders.2.*.~YS5i");
  });

  it("follows new events until aborted, and fails clearly for a missing stream or an undecodable event", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "live", partitions: 2 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    await producer.publish("OrderPlaced", { orderId: "x" });
    const abort = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const e of replay(conn, def, { follow: true, signal: abort.signal })) {
        seen.push(e.meta.sequence);
        if (seen.length === 3) abort.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    await producer.publish("OrderPlaced", { orderId: "y" });
    await producer.publish("OrderShipped", { orderId: "z" });
    await reading;
    expect(seen).toEqual([1, 2, 3]);

    await expect(collect(replayStored(conn, "nope"))).rejects.toSatisfy((e) => isChronicleError(e, "not_found"));
    // a message of a type the definition does not know, published by another client
    await conn.js.publish("live.Unknown.k", new Uint8Array([1, 2, 3]));
    await expect(collect(replay(conn, def))).rejects.toSatisfy((e) => isChronicleError(e, "decode_failed") && e.context.sequence === 4);
    expect(await collect(replay(conn, def, { skipUndecodable: true }))).toHaveLength(3);
    await producer.close();
  });
});
