import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import {
  connect,
  createKvIdempotencyStore,
  createProducer,
  defineStream,
  ensureStream,
  startConsumerGroup,
  startLocalServer,
  type ChronicleConnection,
  type ConsumerGroupMember,
  type StreamDefinition,
} from "@chronicle/runtime";
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

/** Group throughput: `members` members drain `count` stored events; events/s from first start to last handled. */
async function groupThroughput(
  conn: ChronicleConnection,
  url: string,
  def: StreamDefinition<Notes>,
  group: string,
  members: number,
  count: number,
): Promise<number> {
  let handled = 0;
  const conns = await Promise.all(Array.from({ length: members }, () => connect({ servers: url })));
  const t0 = performance.now();
  const started: ConsumerGroupMember[] = [];
  for (const c of conns) {
    started.push(
      await startConsumerGroup(c, def, {
        group,
        store: await createKvIdempotencyStore(c, { stream: def.settings.name }),
        onError: () => undefined,
        handlers: { Note: async () => void handled++ },
      }),
    );
  }
  await until(() => handled >= count, 120_000);
  const ms = performance.now() - t0;
  for (const m of started) await m.stop();
  for (const c of conns) await c.close();
  void conn;
  return perSecond(handled, ms);
}

const bench: Benchmark = {
  name: "consumer",
  description: "Consumer groups (KV idempotency store) against raw nats.js consume()+ack, latency at a steady rate, scaling with members",
  async run(ctx) {
    const count = ctx.quick ? 5_000 : 50_000;
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const out: Measurement[] = [];

    // Raw baseline: one consume() per partition consumer would be unfair; one plain consumer over the stream is what nats.js does best.
    const def1 = notes("bench_c1", 16);
    await fill(conn, def1, count);
    await conn.jsm.consumers.add("bench_c1", { durable_name: "raw", ack_policy: "explicit", max_ack_pending: 10_000 } as never);
    const raw = await conn.js.consumers.get("bench_c1", "raw");
    let got = 0;
    const t0 = performance.now();
    const msgs = await raw.consume({ max_messages: 1000 });
    for await (const m of msgs) {
      m.ack();
      if (++got >= count) break;
    }
    const rawRate = perSecond(got, performance.now() - t0);
    ctx.log(`raw consume+ack: ${Math.round(rawRate)}/s`);

    const oneMember = await groupThroughput(conn, server.url, def1, "g1", 1, count);
    ctx.log(`group, 1 member: ${Math.round(oneMember)}/s`);
    out.push({
      name: "group throughput, KV store, 1 member, 16 partitions",
      value: oneMember,
      unit: "events/s",
      baseline: { name: "raw consume()+ack", value: rawRate },
      note: "target >= 0.5x",
    });
    for (const members of [2, 4]) {
      const rate = await groupThroughput(conn, server.url, def1, `g${members}`, members, count);
      ctx.log(`group, ${members} members: ${Math.round(rate)}/s`);
      out.push({
        name: `group throughput, KV store, ${members} members, 16 partitions`,
        value: rate,
        unit: "events/s",
        baseline: { name: "raw consume()+ack", value: rawRate },
      });
    }

    // Latency publish -> handler at a steady rate.
    const rate = 2000;
    const seconds = ctx.quick ? 2 : 10;
    const def2 = notes("bench_c2", 16);
    await ensureStream(conn, def2);
    const lat: number[] = [];
    const member = await startConsumerGroup(conn, def2, {
      group: "lat",
      onError: () => undefined,
      handlers: {
        Note: async (e) => {
          lat.push(Date.now() - Number(e.value.split(":")[1]));
        },
      },
    });
    await sleep(1000);
    const producer = createProducer(conn, def2);
    const total = rate * seconds;
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      void producer.publish("Note", { value: `k${i % 500}:${Date.now()}` });
    }
    await producer.close();
    await until(() => lat.length >= total, 20_000);
    await member.stop();
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    ctx.log(`latency at ${rate}/s: p50 ${p50} ms, p99 ${p99} ms (${lat.length} events)`);
    out.push({ name: `end-to-end latency p50 at ${rate} events/s`, value: p50, unit: "ms", lowerIsBetter: true });
    out.push({ name: `end-to-end latency p99 at ${rate} events/s`, value: p99, unit: "ms", lowerIsBetter: true, note: "target < 10 ms" });
    return out;
  },
};

export default bench;
