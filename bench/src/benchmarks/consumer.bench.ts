import { fromBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  connect,
  createProducer,
  defineStream,
  ensureStream,
  startConsumerGroup,
  type ChronicleConnection,
  type ConsumerGroupMember,
  type StreamDefinition,
  type WireKind,
} from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { Kvm } from "@nats-io/kv";
import { pinnedPartitionsWithRecords } from "../baselines/raw-nats.js";
import { percentile, perSecond, type Benchmark, type Measurement } from "../harness.js";

type Notes = { Note: typeof StringValueSchema };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function notes(name: string, partitions: number): StreamDefinition<Notes> {
  return defineStream<Notes>(
    { name, partitions },
    { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.split(":")[0]! } },
  );
}

async function fill(conn: ChronicleConnection, def: StreamDefinition<Notes>, count: number): Promise<void> {
  await ensureStream(conn, def);
  const p = createProducer(conn, def);
  const batch = 2000;
  for (let i = 0; i < count; i += batch) {
    await p.publishBatch(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({ name: "Note" as const, event: { value: `k${(i + j) % 500}:${i + j}` } })),
    );
  }
  await p.close();
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(5);
}

/**
 * Group throughput: `members` members (started together) drain `count` stored events. Events/s from
 * the first handled event to the last, like the raw baseline, so that the one-off start (consumers,
 * buckets, membership) is reported apart rather than spread over a short run.
 */
async function groupThroughput(
  url: string,
  def: StreamDefinition<Notes>,
  group: string,
  members: number,
  count: number,
  wire: WireKind = "internal",
): Promise<{ rate: number; startMs: number }> {
  let handled = 0;
  let first = 0;
  let last = 0;
  const conns = await Promise.all(Array.from({ length: members }, () => connect({ servers: url, wire })));
  const t0 = performance.now();
  const started: ConsumerGroupMember[] = await Promise.all(
    conns.map((c) =>
      startConsumerGroup(c, def, {
        group,
        // the default store: a KV store on the member's connection
        onError: () => undefined,
        handlers: {
          Note: async () => {
            if (handled++ === 0) first = performance.now();
            if (handled === count) last = performance.now();
          },
        },
      }),
    ),
  );
  await until(() => handled >= count, 120_000);
  for (const m of started) await m.stop();
  for (const c of conns) await c.close();
  return { rate: perSecond(count - 1, last - first), startMs: Math.round(first - t0) };
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

const bench: Benchmark = {
  name: "consumer",
  description:
    "Consumer groups (KV idempotency store) on the internal and the public wire against raw nats.js consume()+ack, latency at a steady rate, scaling with members",
  async run(ctx) {
    const count = ctx.quick ? 5_000 : 50_000;
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const out: Measurement[] = [];

    // Raw baseline on the same stream and payloads: one plain consumer over the stream is what nats.js does best.
    // Raw and group runs alternate, best of `rounds` each, so that both meet the same load on a busy machine.
    const def1 = notes("bench_c1", 16);
    await fill(conn, def1, count);
    const rawOnce = async (name: string) => {
      await conn.jsm.consumers.add("bench_c1", { durable_name: name, ack_policy: "explicit", max_ack_pending: 10_000 } as never);
      const raw = await conn.js.consumers.get("bench_c1", name);
      let got = 0;
      let first = 0;
      const msgs = await raw.consume({ max_messages: 1000 });
      for await (const m of msgs) {
        m.ack();
        if (got++ === 0) first = performance.now();
        if (got >= count) break;
      }
      const rate = perSecond(count - 1, performance.now() - first);
      await conn.jsm.consumers.delete("bench_c1", name);
      return rate;
    };
    // The design's floor in raw nats.js: pinned consumer per partition + an acknowledged KV record per event.
    await new Kvm(conn.js).create("bench_floor", { history: 1, ttl: 7 * 24 * 3600 * 1000 });
    const floorOnce = (r: number) =>
      pinnedPartitionsWithRecords(conn.nc, conn.js, conn.jsm, {
        stream: "bench_c1",
        partitions: 16,
        filter: (p) => `bench_c1.${p}.>`,
        bucket: "bench_floor",
        count,
        name: `floor${r}`,
      });
    // five rounds: the record-heavy side (group, floor) swings with the shared disk and CPU more than raw consume()+ack does
    const rounds = ctx.quick ? 2 : 5;
    let rawRate = 0;
    let floorRate = 0;
    const best = new Map<number, number>();
    const perRound = new Map<number, number[]>();
    let publicBest = 0;
    /** Each round's public-wire rate over the same round's internal-wire rate (1 member). */
    const publicPerRound: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const rawR = await rawOnce(`raw${r}`);
      rawRate = Math.max(rawRate, rawR);
      const floorR = await floorOnce(r);
      floorRate = Math.max(floorRate, floorR);
      const line = [`round ${r + 1}: raw consume+ack ${Math.round(rawR)}/s, raw pinned partitions + KV record ${Math.round(floorR)}/s`];
      for (const members of [1, 2, 4]) {
        const { rate, startMs } = await groupThroughput(server.url, def1, `g${members}r${r}`, members, count);
        best.set(members, Math.max(best.get(members) ?? 0, rate));
        perRound.set(members, [...(perRound.get(members) ?? []), rate]);
        line.push(`${members} member(s) ${Math.round(rate)}/s (first event after ${startMs} ms)`);
      }
      const { rate: publicRate } = await groupThroughput(server.url, def1, `gpr${r}`, 1, count, "public");
      publicBest = Math.max(publicBest, publicRate);
      publicPerRound.push(publicRate / (perRound.get(1)![r] ?? publicRate));
      line.push(`1 member, public wire ${Math.round(publicRate)}/s`);
      ctx.log(line.join(", "));
    }
    for (const members of [1, 2, 4]) {
      out.push({
        name: `group throughput, KV store, ${members} member${members > 1 ? "s" : ""}, 16 partitions`,
        value: best.get(members)!,
        unit: "events/s",
        baseline: { name: "raw consume()+ack", value: rawRate },
        ...(members === 1 ? { note: "target >= 0.5x" } : {}),
      });
    }
    const sortedPublic = [...publicPerRound].sort((a, b) => a - b);
    out.push(
      {
        name: "group throughput, KV store, 1 member, 16 partitions, public wire",
        value: publicBest,
        unit: "events/s",
        baseline: { name: "raw consume()+ack", value: rawRate },
      },
      {
        name: "group throughput, KV store, 1 member, 16 partitions, public wire",
        value: publicBest,
        unit: "events/s",
        baseline: { name: "the same group on the internal wire", value: best.get(1)! },
        note: `median of the rounds' own ratios ${sortedPublic[sortedPublic.length >> 1]!.toFixed(2)}x (${sortedPublic.map((x) => x.toFixed(2)).join(", ")})`,
      },
    );
    out.push({
      name: "group throughput, KV store, 1 member, 16 partitions",
      value: best.get(1)!,
      unit: "events/s",
      baseline: { name: "raw nats.js doing the design's minimum: 16 pinned consumers + an acked KV record per event", value: floorRate },
      note: "the ceiling of a group with the KV store here; the rest is Chronicle's own cost",
    });
    out.push({
      name: "raw nats.js, 16 pinned consumers + an acked KV record per event",
      value: floorRate,
      unit: "events/s",
      baseline: { name: "raw consume()+ack", value: rawRate },
      note: "what the design's server calls alone allow",
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
    await sleep(1000);
    const total = await publishSteady(conn, def2, rate, seconds, () => {
      lat.length = 0;
      rawLat.length = 0;
    });
    await until(() => lat.length >= total && rawLat.length >= total, 20_000);
    await member.stop();
    await rawMsgs.close();
    for (const [what, samples, p] of [
      ["p50", lat, 50],
      ["p99", lat, 99],
    ] as const) {
      const rawP = percentile(rawLat, p);
      const v = percentile(samples, p);
      ctx.log(`latency at ${rate}/s ${what}: group ${v} ms, raw consume() ${rawP} ms (${samples.length} events)`);
      out.push({
        name: `end-to-end latency ${what} at ${rate} events/s`,
        value: v,
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "raw consume() callback", value: Math.max(rawP, 0.01) },
        ...(what === "p99" ? { note: "target < 10 ms" } : {}),
      });
    }
    return out;
  },
};

export default bench;
