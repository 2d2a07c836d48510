import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { toBinary, create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import {
  connect,
  createProducer,
  defineStream,
  ensureStream,
  layout,
  startConsumerGroup,
  type ChronicleConnection,
  type StreamDefinition,
} from "@chronicle/runtime";
import { startLocalCluster, type LocalCluster } from "@chronicle/testing";
import type { Benchmark, Measurement } from "../harness.js";

type Notes = { Note: typeof StringValueSchema };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes per second while the leader dies: steady, as a service records facts. */
const RATE = 1000;
/** Publishes in flight at most. */
const IN_FLIGHT = 1000;

function notes(name: string): StreamDefinition<Notes> {
  return defineStream<Notes>(
    { name, partitions: 4, replicas: 3 },
    { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.split(":")[0]! } },
  );
}

/** One publish of `value` that resolves once it is acknowledged (retrying as its publisher does). */
type PublishFn = (value: string) => Promise<void>;

/** What one leader kill did to a publisher and a consumer. */
interface KillOutcome {
  /** From the kill to the new leader's announcement, ms. */
  electionMs: number;
  /** From the election to the last acknowledgement of the publishes called before the kill, ms. */
  inFlightSettledMs: number;
  /** Longest time without an acknowledgement, beyond the election, ms (0: none longer than the election). */
  publishStallBeyondMs: number;
  /** Longest time without a handled event, beyond the election, ms. */
  consumeStallBeyondMs: number;
}

/** Longest gap between consecutive times overlapping `[from, to]`, `from` and `to` included as bounds. */
function longestGap(times: readonly number[], from: number, to: number): number {
  let previous = from;
  let longest = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t < from) continue;
    if (t > to) break;
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, to - previous);
}

/**
 * Publishes at a steady rate through `publish` while the caller's consumer
 * appends to `handledTimes`, SIGKILLs the stream's leader once both are
 * going, waits for the election announced by JetStream's advisory
 * (seen by a client on a surviving node), goes on for a few seconds, then
 * restarts the node.
 */
async function killLeaderUnder(
  cluster: LocalCluster,
  stream: string,
  leader: string,
  publish: PublishFn,
  handledTimes: number[],
  log: (line: string) => void,
): Promise<KillOutcome> {
  const survivor = cluster.servers.find((s) => s.name !== leader)!;
  const watcher = await natsConnect({ servers: survivor.url, name: "elections" });
  let electedAt = 0;
  const sub = watcher.subscribe(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}`, {
    callback: (err, m) => {
      if (err === null && electedAt === 0 && (m.json() as { leader?: string }).leader !== leader) electedAt = Date.now();
    },
  });
  const ackTimes: number[] = [];
  const calledAtOfAck: number[] = [];
  let stopping = false;
  let inFlight = 0;
  let sent = 0;
  const t0 = performance.now();
  const loop = (async () => {
    const all: Promise<void>[] = [];
    while (!stopping) {
      if (sent >= ((performance.now() - t0) * RATE) / 1000 || inFlight >= IN_FLIGHT) {
        await sleep(2);
        continue;
      }
      const value = `k${sent % 50}:${sent}`;
      const calledAt = Date.now();
      sent++;
      inFlight++;
      all.push(
        publish(value).then(() => {
          inFlight--;
          ackTimes.push(Date.now());
          calledAtOfAck.push(calledAt);
        }),
      );
    }
    await Promise.all(all);
  })();
  await sleep(3000);
  await cluster.server(leader).kill("SIGKILL");
  const killedAt = Date.now();
  const deadline = Date.now() + 30_000;
  while (electedAt === 0 && Date.now() < deadline) await sleep(10);
  if (electedAt === 0) throw new Error(`no new leader of ${stream} announced within 30 s of the kill`);
  await sleep(4000);
  stopping = true;
  await loop;
  sub.unsubscribe();
  await watcher.close();
  await cluster.server(leader).restart();
  await cluster.waitReady();
  const electionMs = electedAt - killedAt;
  let lastInFlight = 0;
  for (let i = 0; i < ackTimes.length; i++) if (calledAtOfAck[i]! < killedAt) lastInFlight = Math.max(lastInFlight, ackTimes[i]!);
  const window = electedAt + 3000;
  const outcome: KillOutcome = {
    electionMs,
    inFlightSettledMs: Math.max(0, lastInFlight - electedAt),
    publishStallBeyondMs: Math.max(0, longestGap(ackTimes, killedAt, window) - electionMs),
    consumeStallBeyondMs: Math.max(0, longestGap(handledTimes, killedAt, window) - electionMs),
  };
  log(`${stream}: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The stream's leader and a follower's URL. */
async function leaderAndFollower(conn: ChronicleConnection, cluster: LocalCluster, stream: string): Promise<{ leader: string; followerUrl: string }> {
  for (let i = 0; i < 100; i++) {
    const leader = (await conn.jsm.streams.info(stream)).cluster?.leader;
    if (leader) return { leader, followerUrl: cluster.servers.find((s) => s.name !== leader)!.url };
    await sleep(100);
  }
  throw new Error(`stream ${stream} has no leader`);
}

/** Chronicle: the runtime producer (default 5 s ack timeout) and a consumer group of one, both on a follower. */
async function chronicleRun(cluster: LocalCluster, conn: ChronicleConnection, stream: string, log: (l: string) => void): Promise<KillOutcome> {
  const def = notes(stream);
  await ensureStream(conn, def);
  const { leader, followerUrl } = await leaderAndFollower(conn, cluster, stream);
  await using client = await connect({ servers: followerUrl, name: "bench-chronicle" });
  const producer = createProducer(client, def);
  const handled: number[] = [];
  const errors: string[] = [];
  const member = await startConsumerGroup(client, def, {
    group: "g",
    onError: (err) => void errors.push((err as Error).message),
    handlers: { Note: async () => void handled.push(Date.now()) },
  });
  await member.assignmentSettled();
  try {
    return await killLeaderUnder(cluster, stream, leader, async (value) => void (await producer.publish("Note", { value }, { dedupKey: value })), handled, log);
  } finally {
    if (errors.length) log(`${stream}: the group reported ${errors.length} errors, e.g. ${errors.slice(0, 2).join(" | ")}`);
    await member.stop();
    await producer.close();
  }
}

/**
 * Raw nats.js, as a careful user writes it: `js.publish` with a message id
 * and nats.js's default 5 s timeout, sent again after 250 ms on any error;
 * a durable pull consumer (R3, survives the kill) read by `consume()` with
 * explicit acks.
 */
async function rawRun(cluster: LocalCluster, conn: ChronicleConnection, stream: string, log: (l: string) => void): Promise<KillOutcome> {
  const def = notes(stream);
  await ensureStream(conn, def);
  const { leader, followerUrl } = await leaderAndFollower(conn, cluster, stream);
  const nc: NatsConnection = await natsConnect({ servers: followerUrl, name: "bench-raw" });
  const js = jetstream(nc);
  await conn.jsm.consumers.add(stream, { durable_name: "raw", ack_policy: "explicit" } as never);
  const handled: number[] = [];
  const messages = await js.consumers.get(stream, "raw").then((c) => c.consume());
  const reading = (async () => {
    for await (const m of messages) {
      handled.push(Date.now());
      m.ack();
    }
  })();
  const publish: PublishFn = async (value) => {
    const data = toBinary(StringValueSchema, create(StringValueSchema, { value }));
    const subject = layout.publishSubject(stream, "Note", value.split(":")[0]!);
    for (;;) {
      try {
        await js.publish(subject, data, { msgID: value });
        return;
      } catch {
        await sleep(250);
      }
    }
  };
  try {
    return await killLeaderUnder(cluster, stream, leader, publish, handled, log);
  } finally {
    messages.stop();
    await reading.catch(() => undefined);
    await nc.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/**
 * The stream leader of a 3-node R3 cluster SIGKILLed under a steady load:
 * how long after JetStream announces the new leader the publisher's
 * in-flight publishes are acknowledged and the consumer handles events
 * again. Chronicle beside raw nats.js, each on a connection to a follower
 * (which stays up), alternating, in one run.
 */
const failover: Benchmark = {
  name: "failover",
  description:
    "Stream leader SIGKILLed in a 3-node R3 cluster under 1,000 publishes/s: time after the announced election until publishing and consuming go on (Chronicle vs raw nats.js)",
  async run(ctx) {
    const trials = ctx.quick ? 1 : 3;
    await using cluster = await startLocalCluster({ nodes: 3 });
    await using conn = await connect({ servers: cluster.urls, name: "bench-admin" });
    const ours: KillOutcome[] = [];
    const raw: KillOutcome[] = [];
    for (let i = 0; i < trials; i++) {
      ours.push(await chronicleRun(cluster, conn, `foc${i}`, ctx.log));
      raw.push(await rawRun(cluster, conn, `for${i}`, ctx.log));
    }
    const figure = (pick: (o: KillOutcome) => number) => ({ ours: median(ours.map(pick)), raw: median(raw.map(pick)) });
    const settled = figure((o) => o.inFlightSettledMs);
    const publishStall = figure((o) => o.publishStallBeyondMs);
    const consumeStall = figure((o) => o.consumeStallBeyondMs);
    const elections = [...ours, ...raw].map((o) => o.electionMs);
    const note = `median of ${trials}; elections ${Math.min(...elections)}-${Math.max(...elections)} ms after the kill; target <= 1000 ms`;
    // a retry loop that happens to fire as the leader comes up beats the announcement by a few ms: under the
    // target either way, so the ratio of the two stalls says little; the in-flight figure is the one that differs
    const stallNote = `${note}; tens of ms either way are when the announcement reaches the watcher`;
    const out: Measurement[] = [
      {
        name: "publishes in flight at the kill: last acknowledged after the election",
        value: settled.ours,
        unit: "ms",
        baseline: { name: "raw js.publish, 5 s timeout, retried", value: settled.raw },
        lowerIsBetter: true,
        note,
      },
      {
        name: "producer stall beyond the election",
        value: publishStall.ours,
        unit: "ms",
        baseline: { name: "raw js.publish, 5 s timeout, retried", value: publishStall.raw },
        lowerIsBetter: true,
        note: stallNote,
      },
      {
        name: "consumer stall beyond the election (group of 1)",
        value: consumeStall.ours,
        unit: "ms",
        baseline: { name: "raw durable R3 pull consumer, consume()", value: consumeStall.raw },
        lowerIsBetter: true,
        note: stallNote,
      },
    ];
    return out;
  },
};

export default failover;
