import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { connect, createProducer, defineStream, ensureStream, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalCluster, startLocalServer } from "@chronicle/testing";
import { perSecond, type Benchmark, type Measurement } from "../harness.js";

const noteStream = (name: string, replicas: number) =>
  defineStream<{ Note: typeof StringValueSchema }>(
    { name, partitions: 8, replicas },
    { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.slice(0, 6) } },
  );

/** Events/s of the Chronicle producer (window of 5,000 in flight, ~128 B events) into a fresh stream. */
async function producerRate(conn: ChronicleConnection, name: string, replicas: number, count: number): Promise<number> {
  const def = noteStream(name, replicas);
  await ensureStream(conn, def);
  const producer = createProducer(conn, def);
  const pad = "x".repeat(110);
  const start = performance.now();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    window.push(producer.publish("Note", { value: `k${String(i % 1000).padStart(5, "0")}:${i}:${pad}` }));
    if (window.length >= 5000) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  const ms = performance.now() - start;
  const report = await producer.close();
  if (report.failed.length > 0) throw new Error(`${report.failed.length} publishes failed: ${report.failed[0]!.error.message}`);
  return perSecond(count, ms);
}

/**
 * What `sync_interval: always` costs: the same producer run against a server
 * with nats-server's default (fsync every 2 minutes) and one that fsyncs
 * every write before acknowledging it, single node and 3-node R3, in one run.
 */
const durability: Benchmark = {
  name: "durability",
  description: "Producer throughput with nats-server's default sync interval vs sync_interval: always (single node and 3-node cluster, R3)",
  async run(ctx) {
    const count = ctx.quick ? 5_000 : 50_000;
    const out: Measurement[] = [];
    const rates: Record<string, number> = {};
    for (const syncAlways of [false, true]) {
      const label = syncAlways ? "sync always" : "default sync";
      {
        await using server = await startLocalServer({ syncAlways });
        await using conn = await connect({ servers: server.url });
        rates[`single ${label}`] = await producerRate(conn, "dur", 1, count);
        ctx.log(`single node, ${label}: ${rates[`single ${label}`]} events/s`);
      }
      {
        await using cluster = await startLocalCluster({ nodes: 3, syncAlways });
        await using conn = await connect({ servers: cluster.urls });
        rates[`r3 ${label}`] = await producerRate(conn, "dur", 3, count);
        ctx.log(`3 nodes R3, ${label}: ${rates[`r3 ${label}`]} events/s`);
      }
    }
    for (const scope of ["single", "r3"] as const) {
      out.push({
        name: `producer, ${scope === "single" ? "single node" : "3-node cluster R3"}, sync_interval: always`,
        value: rates[`${scope} sync always`]!,
        unit: "events/s",
        baseline: { name: "same producer, default sync (every 2 min)", value: rates[`${scope} default sync`]! },
        note: "ratio < 1 is the price of surviving a power loss of every replica",
      });
    }
    return out;
  },
};

export default durability;
