import { fromBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  connect,
  createKvIdempotencyStore,
  createProducer,
  defineStream,
  ensureStream,
  startConsumerGroup,
  type ChronicleConnection,
  type ConsumerGroupMember,
  type ConsumerGroupOptions,
  type StreamDefinition,
  type WireKind,
} from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { percentile, perSecond, type Benchmark, type Measurement } from "../harness.js";

type Notes = { Note: typeof StringValueSchema };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function notes(name: string, partitions: number): StreamDefinition<Notes> {
  return defineStream<Notes>(
    { name, partitions },
    { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.split(":")[0]! } },
  );
}

async function fill(conn: ChronicleConnection, def: StreamDefinition<Notes>, count: number, prefix = ""): Promise<void> {
  await ensureStream(conn, def);
  const p = createProducer(conn, def);
  const batch = 2000;
  for (let i = 0; i < count; i += batch) {
    await p.publishBatch(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({ name: "Note" as const, event: { value: `k${(i + j) % 500}:${prefix}${i + j}` } })),
    );
  }
  await p.close();
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(5);
  return cond();
}

/** Raw nats.js: one plain consumer over the stream, `consume()` + `ack()`; events/s from the first message to the last. */
async function rawConsumeAck(conn: ChronicleConnection, stream: string, count: number, name: string): Promise<number> {
  await conn.jsm.consumers.add(stream, { durable_name: name, ack_policy: "explicit", max_ack_pending: 10_000 } as never);
  const raw = await conn.js.consumers.get(stream, name);
  let got = 0;
  let first = 0;
  const msgs = await raw.consume({ max_messages: 1000 });
  for await (const m of msgs) {
    m.ack();
    if (got++ === 0) first = performance.now();
    if (got >= count) break;
  }
  const rate = perSecond(count - 1, performance.now() - first);
  await conn.jsm.consumers.delete(stream, name);
  return rate;
}

/**
 * Group throughput: `members` members (started together, in this process) drain `count` stored
 * events. Events/s from the first handled event to the last, like the raw baseline. Also the longest
 * time no member handled anything once every member's assignment had settled: a stall of the whole group.
 */
async function groupThroughput(
  url: string,
  def: StreamDefinition<Notes>,
  group: string,
  members: number,
  count: number,
  options: Partial<ConsumerGroupOptions<Notes>> = {},
  wire: WireKind = "internal",
): Promise<{ rate: number; startMs: number; stallMs: number }> {
  let handled = 0;
  let first = 0;
  let last = 0;
  let settledAt = Infinity;
  let lastAt = 0;
  let stallMs = 0;
  const conns = await Promise.all(Array.from({ length: members }, () => connect({ servers: url, wire })));
  const t0 = performance.now();
  const started: ConsumerGroupMember[] = await Promise.all(
    conns.map(async (c) =>
      startConsumerGroup(c, def, {
        group,
        onError: () => undefined,
        ...options,
        handlers: {
          Note: async () => {
            const now = performance.now();
            if (handled++ === 0) first = now;
            if (now > settledAt && lastAt > settledAt) stallMs = Math.max(stallMs, now - lastAt);
            lastAt = now;
            if (handled === count) last = now;
          },
        },
      }),
    ),
  );
  void Promise.all(started.map((m) => m.assignmentSettled())).then(() => (settledAt = performance.now()));
  await until(() => handled >= count, 180_000);
  for (const m of started) await m.stop();
  for (const c of conns) await c.close();
  return { rate: perSecond(count - 1, last - first), startMs: Math.round(first - t0), stallMs: Math.round(stallMs) };
}

/** Publishes `Note`s `k<i % 500>:<performance.now() at publish>` at a steady `rate` for `seconds`, after a short unmeasured warm-up. */
async function publishSteady(conn: ChronicleConnection, def: StreamDefinition<Notes>, rate: number, seconds: number, onWarm: () => void): Promise<number> {
  const producer = createProducer(conn, def);
  for (let i = 0; i < 200; i++) void producer.publish("Note", { value: `k${i % 500}:warm` });
  await sleep(500);
  onWarm();
  const total = rate * seconds;
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    void producer.publish("Note", { value: `k${i % 500}:${performance.now().toFixed(2)}` });
  }
  await producer.close();
  return total;
}

function latencySample(lat: number[], value: string): void {
  const sent = value.split(":")[1];
  if (sent !== "warm") lat.push(Math.round((performance.now() - Number(sent)) * 100) / 100);
}

/** Time from a member's start (joining included) to owning a one-partition stream whose state holds `keys` handled keys (left by an earlier member). */
async function acquisitionMs(url: string, conn: ChronicleConnection, name: string, keys: number): Promise<number> {
  const def = notes(name, 1);
  await fill(conn, def, keys);
  const noop = { Note: async () => undefined };
  // an earlier member handles every event (so the partition's state holds `keys` keys) and stops
  let n = 0;
  const earlier = await startConsumerGroup(conn, def, { group: "g", onError: () => undefined, handlers: { Note: async () => void n++ } });
  await until(() => n >= keys, 180_000);
  await earlier.stop();
  await using c = await connect({ servers: url });
  const t0 = performance.now();
  const member = await startConsumerGroup(c, def, { group: "g", onError: () => undefined, handlers: noop });
  await member.assignmentSettled();
  const ms = performance.now() - t0;
  await member.stop();
  return ms;
}

/**
 * Handover of partitions under load: two members read a stream while events flow at a steady rate;
 * a third joins and later leaves, several times. For each partition that changes hands, the time
 * from the last event its old owner handled to the first its new owner handled.
 */
async function handoverGaps(url: string, conn: ChronicleConnection, rounds: number): Promise<number[]> {
  const def = notes("bench_c4", 8);
  await ensureStream(conn, def);
  const lastBy = new Map<number, { m: string; at: number }>();
  const gaps: number[] = [];
  const start = async (id: string) => {
    const c = await connect({ servers: url });
    const m = await startConsumerGroup(c, def, {
      group: "h",
      memberId: id,
      onError: () => undefined,
      handlers: {
        Note: async (_e, ctx) => {
          const now = performance.now();
          const prev = lastBy.get(ctx.partition);
          if (prev && prev.m !== id) gaps.push(Math.round(now - prev.at));
          lastBy.set(ctx.partition, { m: id, at: now });
        },
      },
    });
    return { c, m };
  };
  const steady = [await start("a"), await start("b")];
  await Promise.all(steady.map(({ m }) => m.assignmentSettled()));
  let publishing = true;
  const producer = createProducer(conn, def);
  const flow = (async () => {
    for (let i = 0; publishing; i++) {
      void producer.publish("Note", { value: `k${i % 200}:${i}` });
      if (i % 2 === 0) await sleep(1); // about 1,000 events/s on this machine
    }
    await producer.close();
  })();
  await sleep(500);
  for (let r = 0; r < rounds; r++) {
    const third = await start(`c${r}`);
    await third.m.assignmentSettled();
    await sleep(300);
    await third.m.stop();
    await third.c.close();
    await Promise.all(steady.map(({ m }) => m.assignmentSettled()));
    await sleep(300);
  }
  publishing = false;
  await flow;
  for (const { c, m } of steady) {
    await m.stop();
    await c.close();
  }
  return gaps;
}

const bench: Benchmark = {
  name: "consumer",
  description:
    "Consumer groups (idempotency from the partition state; the per-event KV store as an option) against raw nats.js consume()+ack, with 1 and 4 members, acquisition of a partition holding 100,000 keys, latency at a steady rate, handovers under load",
  async run(ctx) {
    const count = ctx.quick ? 5_000 : 50_000;
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const out: Measurement[] = [];

    // Raw and group runs alternate, best of `rounds` each, so that both meet the same load on a busy machine.
    const def1 = notes("bench_c1", 16);
    await fill(conn, def1, count);
    const rounds = ctx.quick ? 2 : 5;
    let rawRate = 0;
    const best = new Map<string, { rate: number; stallMs: number }>();
    const keep = (key: string, r: { rate: number; stallMs: number }) => {
      const b = best.get(key);
      if (!b || r.rate > b.rate) best.set(key, r);
    };
    for (let r = 0; r < rounds; r++) {
      const rawR = await rawConsumeAck(conn, "bench_c1", count, `raw${r}`);
      rawRate = Math.max(rawRate, rawR);
      const line = [`round ${r + 1}: raw consume+ack ${rawR}/s`];
      for (const members of [1, 4]) {
        const res = await groupThroughput(server.url, def1, `g${members}r${r}`, members, count);
        keep(`${members}`, res);
        line.push(`${members} member(s) ${res.rate}/s (first event after ${res.startMs} ms, longest stall after settling ${res.stallMs} ms)`);
      }
      const kv = await groupThroughput(server.url, def1, `kv${r}`, 1, count, { store: await createKvIdempotencyStore(conn, { stream: "bench_c1" }) });
      keep("kv", kv);
      line.push(`1 member with the per-event KV store ${kv.rate}/s`);
      const pub = await groupThroughput(server.url, def1, `pub${r}`, 1, count, {}, "public");
      keep("public", pub);
      line.push(`1 member on the public wire ${pub.rate}/s`);
      ctx.log(line.join(", "));
    }
    const one = best.get("1")!;
    const four = best.get("4")!;
    out.push({
      name: "group throughput, 1 member, 16 partitions, default store",
      value: one.rate,
      unit: "events/s",
      baseline: { name: "raw consume()+ack", value: rawRate },
      note: "target >= 0.8x",
    });
    out.push({
      name: "group throughput, 4 members in one process, 16 partitions",
      value: four.rate,
      unit: "events/s",
      baseline: { name: "the same group with 1 member", value: one.rate },
      note: "target >= 0.9x",
    });
    out.push({
      name: "longest stall of the whole 4-member group after its assignment settled",
      value: Math.max(four.stallMs, 1),
      unit: "ms",
      lowerIsBetter: true,
      note: "target < 250 ms",
    });
    out.push({
      name: "group throughput, 1 member, 16 partitions, default store, public wire",
      value: best.get("public")!.rate,
      unit: "events/s",
      baseline: { name: "the same group on the internal wire", value: one.rate },
    });
    out.push({
      name: "group throughput, 1 member, 16 partitions, per-event KV store (option)",
      value: best.get("kv")!.rate,
      unit: "events/s",
      baseline: { name: "raw consume()+ack", value: rawRate },
    });

    // Acquiring a partition whose state holds 100,000 keys, beside acquiring one that holds none.
    const keys = ctx.quick ? 10_000 : 100_000;
    const emptyMs = await acquisitionMs(server.url, conn, "bench_c3e", 1);
    const fullMs = await acquisitionMs(server.url, conn, "bench_c3f", keys);
    ctx.log(`acquisition: ${Math.round(fullMs)} ms with ${keys} keys, ${Math.round(emptyMs)} ms with 1`);
    out.push({
      name: `acquiring a partition whose state holds ${keys.toLocaleString("en-US")} keys`,
      value: Math.round(fullMs),
      unit: "ms",
      lowerIsBetter: true,
      baseline: { name: "acquiring a partition holding 1 key", value: Math.max(1, Math.round(emptyMs)) },
      note: "target < 1000 ms",
    });

    // Latency publish -> handler at a steady rate, beside publish -> raw consume() callback on the same stream.
    const rate = 2000;
    const seconds = ctx.quick ? 2 : 10;
    const def2 = notes("bench_c2", 16);
    await ensureStream(conn, def2);
    const rawLat: number[] = [];
    await conn.jsm.consumers.add("bench_c2", { durable_name: "rawlat", ack_policy: "explicit", deliver_policy: "new", max_ack_pending: 10_000 } as never);
    const rawMsgs = await (
      await conn.js.consumers.get("bench_c2", "rawlat")
    ).consume({
      max_messages: 1000,
      callback: (m) => {
        latencySample(rawLat, fromBinary(StringValueSchema, m.data).value);
        m.ack();
      },
    });
    const lat: number[] = [];
    const member = await startConsumerGroup(conn, def2, {
      group: "lat",
      startAt: "now",
      onError: () => undefined,
      handlers: { Note: async (e) => latencySample(lat, e.value) },
    });
    await member.assignmentSettled();
    const total = await publishSteady(conn, def2, rate, seconds, () => {
      lat.length = 0;
      rawLat.length = 0;
    });
    await until(() => lat.length >= total && rawLat.length >= total, 20_000);
    await member.stop();
    await rawMsgs.close();
    for (const [what, p] of [
      ["p50", 50],
      ["p99", 99],
    ] as const) {
      const rawP = percentile(rawLat, p);
      const v = percentile(lat, p);
      ctx.log(`latency at ${rate}/s ${what}: group ${v} ms, raw consume() ${rawP} ms (${lat.length} events)`);
      out.push({
        name: `end-to-end latency ${what} at ${rate} events/s`,
        value: v,
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "raw consume() callback", value: Math.max(rawP, 0.01) },
        ...(what === "p99" ? { note: "target < 2 ms" } : {}),
      });
    }

    // Handovers under load.
    const gaps = await handoverGaps(server.url, conn, ctx.quick ? 2 : 6);
    ctx.log(`handovers: ${gaps.length} partitions changed hands, gaps ${gaps.join(",")} ms`);
    out.push({
      name: `handover of a partition under load, p99 of ${gaps.length} (last event of the old owner to first of the new)`,
      value: percentile(gaps, 99),
      unit: "ms",
      lowerIsBetter: true,
      note: "target < 500 ms",
    });
    return out;
  },
};

export default bench;
