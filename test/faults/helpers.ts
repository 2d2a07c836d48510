// Shared helpers of the fault suite (test/faults): a producer workload that
// keeps publishing while faults happen, and the checks of the storage
// promises. Internal to the tests.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { headers as natsHeaders, connect as natsConnect } from "@nats-io/transport-node";
import { createProducer, layout, wrapConnection, type ChronicleConnection, type PublishResult } from "@chronicle/runtime";
import { streamStateOnNodes, type LocalCluster, type ReplicaState } from "@chronicle/testing";
import { BREAK, provision, sleep, waitFor, type NoteStream } from "../reliability/helpers.js";

/**
 * CHRONICLE_RELIABILITY_BREAK switches of the fault suite, beside those of
 * test/reliability (`dedup`, `dlq`, `memory`): `ack` (an event counts as
 * acknowledged once written to the socket: {@link startPublishing}), `ping`
 * (nats.js's default pings: {@link faultClient}), `hang` (10-minute
 * timeouts: full-disk.test.ts). docs/reliability.md records what each run
 * broken showed.
 */
export { BREAK, sleep, waitFor };

/**
 * A Chronicle connection for a client of a faulty cluster: the given URLs in
 * order (no shuffling, so the first is where the client starts), reconnecting
 * forever, noticing a silent server after 3 unanswered pings `pingMs` apart,
 * and giving up on a server that does not answer a new connection in 2 s.
 *
 * nats.js pings every 2 minutes and gives up after 2 unanswered pings by
 * default, so a client whose server is cut off by a black-hole partition
 * keeps writing into the dead connection for 4-6 minutes. `connect()` of
 * the runtime keeps that default; these tests choose a short ping, as a
 * service that must fail over faster should (docs/reliability.md).
 */
export async function faultClient(servers: string[], name: string, pingMs = 1000): Promise<ChronicleConnection> {
  const nc = await natsConnect({
    servers,
    name,
    noRandomize: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // CHRONICLE_RELIABILITY_BREAK=ping: nats.js's defaults (a ping every 2 minutes, a 20 s connection
    // timeout), so the client-split scenario must see the producer wait for the heal
    ...(BREAK === "ping" ? {} : { pingInterval: pingMs, maxPingOut: 2, timeout: 2000 }),
  });
  if (process.env["CHRONICLE_FAULTS_DEBUG"]) {
    const t0 = Date.now();
    void (async () => {
      for await (const st of nc.status()) console.log(`[${name} +${Date.now() - t0} ms] ${st.type} ${JSON.stringify(st).slice(0, 160)}`);
    })();
  }
  return wrapConnection(nc);
}

/**
 * The seed of a test's random fault schedule: CHRONICLE_FAULTS_SEED when
 * set (to replay a run), otherwise a new one, which the test prints.
 */
export function faultSeed(): number {
  const given = process.env["CHRONICLE_FAULTS_SEED"];
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/** Outcome of a publishing workload, so far or at its end. */
export interface PublishLoad {
  /** Values whose publish resolved, with what the server answered. */
  readonly acked: Map<string, PublishResult>;
  /** Publishes that failed, with their errors and when. */
  readonly failed: { value: string; error: Error; at: number }[];
  /** Publishes started. */
  readonly sent: number;
  /** Age of the oldest publish not settled yet, ms by the monotonic clock (0: none in flight). */
  oldestInFlightMs(): number;
  /** Longest time from a publish's call to its acknowledgement so far, ms by the monotonic clock. */
  readonly longestLatencyMs: number;
  /** When (ms since the epoch) the last acknowledgement of a publish called before `t` arrived; 0 when none was. */
  lastAckOfCalledBefore(t: number): number;
  /** The last `n` values acknowledged before time `t` (ms since the epoch). */
  ackedBefore(t: number, n: number): string[];
  /**
   * Longest time without an acknowledgement that overlaps `[from, to]`
   * (default the whole run): the producer's stall across a fault. A stall
   * still going on counts up to now.
   */
  longestGap(from?: number, to?: number): number;
  /** Stops starting publishes and waits for those in flight to settle. */
  stop(): Promise<void>;
}

/** Options of {@link startPublishing}. */
export interface PublishingOptions {
  /** Prefix of every value (`<prefix><key>:<n>`); default "p". */
  prefix?: string;
  /** Keys the events spread over; default 50. */
  keys?: number;
  /** Publishes started per second at most; default 2000. */
  ratePerSec?: number;
  /** Publishes in flight at most; default 1000. */
  maxInFlight?: number;
  /** The producer's ack timeout; default 1000 ms. */
  ackTimeoutMs?: number;
  /** The producer's publish timeout; default 60 s (the producer's own default). */
  publishTimeoutMs?: number;
  /** Stop by itself after this many publishes; default unbounded. */
  limit?: number;
}

/**
 * Keeps a runtime producer publishing `Note`s (dedup key = value) at a
 * steady rate until `stop()`, recording every acknowledgement and failure.
 *
 * With CHRONICLE_RELIABILITY_BREAK=ack the "acknowledgement" is taken when
 * the event is written to the socket (a core publish, no JetStream ack): a
 * producer that believes an event stored before a quorum holds it. The
 * promise "no acknowledged event lost" must then be seen to break.
 */
export function startPublishing(conn: ChronicleConnection, def: NoteStream, options: PublishingOptions = {}): PublishLoad {
  const prefix = options.prefix ?? "p";
  const keys = options.keys ?? 50;
  const rate = options.ratePerSec ?? 2000;
  const maxInFlight = options.maxInFlight ?? 1000;
  const limit = options.limit ?? Infinity;
  const producer = createProducer(conn, def, {
    ackTimeoutMs: options.ackTimeoutMs ?? 1000,
    maxInFlight,
    ...(options.publishTimeoutMs !== undefined ? { publishTimeoutMs: options.publishTimeoutMs } : {}),
  });
  const acked = new Map<string, PublishResult>();
  const failed: { value: string; error: Error; at: number }[] = [];
  const ackTimes: number[] = [];
  /** When each acknowledged publish was called (ms since the epoch), in the order of `ackTimes`. */
  const ackCalledAt: number[] = [];
  /** Publishes in flight and when they started (performance.now(): immune to wall-clock steps), oldest first. */
  const pending = new Map<string, number>();
  const perKey = new Map<number, number>();
  let sent = 0;
  let inFlight = 0;
  let stopping = false;
  let endedAt: number | undefined;
  const started = Date.now();
  const startedMono = performance.now();

  const ackValues: string[] = [];
  let longestLatencyMs = 0;
  const ack = (value: string, r: PublishResult) => {
    const calledAt = pending.get(value);
    const latency = calledAt === undefined ? 0 : performance.now() - calledAt;
    longestLatencyMs = Math.max(longestLatencyMs, latency);
    acked.set(value, r);
    const now = Date.now();
    ackTimes.push(now);
    ackCalledAt.push(now - latency);
    ackValues.push(value);
  };
  const publishOne = (value: string): Promise<void> => {
    if (BREAK === "ack") {
      // broken on purpose: "acknowledged" once written, whatever the server does with it
      const h = natsHeaders();
      h.set("Nats-Msg-Id", value);
      const key = value.split(":")[0]!;
      try {
        conn.nc.publish(layout.publishSubject(def.settings.name, "Note", key), toBinary(StringValueSchema, create(StringValueSchema, { value })), {
          headers: h,
        });
      } catch (error) {
        failed.push({ value, error: error as Error, at: Date.now() });
        return Promise.resolve();
      }
      ack(value, { stream: def.settings.name, sequence: 0, duplicate: false, partition: 0, id: value, dedupKey: value, attempts: 1 });
      return Promise.resolve();
    }
    return producer.publish("Note", { value }, { dedupKey: value }).then(
      (r) => ack(value, r),
      (error: unknown) => void failed.push({ value, error: error as Error, at: Date.now() }),
    );
  };

  const loop = (async () => {
    const slots: Promise<void>[] = [];
    while (!stopping && sent < limit) {
      // paced by the monotonic clock, so that a stepped wall clock (clock-skew tests) does not stop it
      const due = Math.floor(((performance.now() - startedMono) * rate) / 1000) + 1;
      if (sent >= due || inFlight >= maxInFlight) {
        await sleep(inFlight >= maxInFlight ? 2 : 5);
        continue;
      }
      const k = sent % keys;
      const n = perKey.get(k) ?? 0;
      perKey.set(k, n + 1);
      const value = `${prefix}${k}:${n}`;
      sent++;
      inFlight++;
      pending.set(value, performance.now());
      slots.push(
        publishOne(value).finally(() => {
          inFlight--;
          pending.delete(value);
        }),
      );
      if (slots.length >= 10_000) await Promise.all(slots.splice(0));
    }
    await Promise.all(slots);
    await producer.close();
    endedAt = Date.now();
  })();

  return {
    acked,
    failed,
    get sent() {
      return sent;
    },
    get longestLatencyMs() {
      return Math.round(longestLatencyMs);
    },
    lastAckOfCalledBefore(t) {
      let last = 0;
      for (let i = 0; i < ackTimes.length; i++) if (ackCalledAt[i]! < t) last = Math.max(last, ackTimes[i]!);
      return last;
    },
    ackedBefore(t, n) {
      let end = ackTimes.length;
      while (end > 0 && ackTimes[end - 1]! >= t) end--;
      return ackValues.slice(Math.max(0, end - n), end);
    },
    oldestInFlightMs() {
      for (const started of pending.values()) return performance.now() - started;
      return 0;
    },
    longestGap(from = started, to = Date.now()) {
      // consecutive acknowledgements, with the start and the end (or now) as bounds
      const times = [started, ...ackTimes, endedAt ?? Date.now()];
      let longest = 0;
      for (let i = 1; i < times.length; i++) if (times[i]! >= from && times[i - 1]! <= to) longest = Math.max(longest, times[i]! - times[i - 1]!);
      return longest;
    },
    async stop() {
      stopping = true;
      await loop;
    },
  };
}

/**
 * Provisions a note stream (see `provision`), trying again for up to 60 s:
 * right after faults the meta leader may not be known yet, or count a node
 * that is back as still offline ("no suitable peers for placement").
 */
export async function provisionWhenReady(conn: ChronicleConnection, def: NoteStream): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await provision(conn, def);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

/** What a stream holds against what was acknowledged. */
export interface StreamCheck {
  /** Acknowledged values not in the stream. */
  lost: string[];
  /** Values stored more than once, with their counts. */
  twice: [string, number][];
  /** Messages in the stream. */
  stored: number;
  /**
   * Reads that ended short of the stream leader's last sequence and were
   * made again: an ordered consumer placed on a replica that is not current
   * reads that replica's copy and reports nothing pending (docs/reliability.md, F-K7).
   */
  staleReads: number;
}

/** Reads every stored Note once with a new ordered consumer: value -> count, and the last stream sequence delivered. */
async function readOnce(conn: ChronicleConnection, stream: string, expected: number): Promise<{ counts: Map<string, number>; lastSeq: number }> {
  const counts = new Map<string, number>();
  let lastSeq = 0;
  if (expected === 0) return { counts, lastSeq };
  const oc = await conn.js.consumers.get(stream);
  const it = await oc.consume();
  for await (const m of it) {
    const v = fromBinary(StringValueSchema, m.data).value;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    lastSeq = m.seq;
    if (m.info.pending === 0) break;
  }
  await it.close();
  return { counts, lastSeq };
}

/** Every value stored in `stream` (read whole through `conn`; a read that ends short is made again, up to 20 times). */
export async function storedValues(conn: ChronicleConnection, stream: string): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const info = await conn.jsm.streams.info(stream);
    const { counts, lastSeq } = await readOnce(conn, stream, info.state.messages);
    if (lastSeq >= info.state.last_seq || attempt >= 20) return [...counts.keys()];
  }
}

/**
 * Reads the whole stream (through `conn`) and compares it with the
 * acknowledged values. A read that ends before the last sequence the stream
 * leader reports is made again with a new consumer (up to 20 times; the
 * retries are counted in `staleReads`).
 */
export async function checkStream(conn: ChronicleConnection, stream: string, acked: Iterable<string>): Promise<StreamCheck> {
  let staleReads = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await conn.jsm.streams.info(stream);
      const { counts, lastSeq } = await readOnce(conn, stream, info.state.messages);
      if (lastSeq < info.state.last_seq && attempt < 20) {
        staleReads++;
        continue;
      }
      const lost = [...acked].filter((v) => !counts.has(v));
      const twice = [...counts.entries()].filter(([, n]) => n > 1);
      let stored = 0;
      for (const n of counts.values()) stored += n;
      return { lost, twice, stored, staleReads };
    } catch (err) {
      // right after faults JetStream may answer "temporarily unavailable" or time out for a while
      if (attempt >= 60) throw err;
      await sleep(500);
    }
  }
}

/**
 * Waits until `quorum` nodes (default every node) hold the same copy of
 * `stream` (message count and last sequence) under one leader they name, and
 * returns every node's state; throws with what each node reported, and the
 * log tail of those behind, otherwise.
 */
export async function replicasAgree(cluster: LocalCluster, stream: string, timeoutMs = 60_000, quorum = cluster.servers.length): Promise<ReplicaState[]> {
  let states: ReplicaState[] = [];
  const ok = await waitFor(
    async () => {
      states = await streamStateOnNodes(cluster, stream);
      const groups = new Map<string, number>();
      for (const s of states)
        if (s.leader) groups.set(`${s.leader}/${s.messages}/${s.lastSeq}`, (groups.get(`${s.leader}/${s.messages}/${s.lastSeq}`) ?? 0) + 1);
      return [...groups.values()].some((n) => n >= quorum);
    },
    timeoutMs,
    250,
  );
  if (!ok) {
    const best = Math.max(...states.map((s) => s.lastSeq));
    const behind = cluster.servers.map((s) => s.name).filter((n) => !states.some((s) => s.node === n && s.lastSeq === best && s.leader));
    const logs = behind.map((n) => `--- ${n}:\n${cluster.server(n).logs().split("\n").slice(-30).join("\n")}`).join("\n");
    throw new Error(`the replicas of ${stream} do not agree after ${timeoutMs} ms: ${JSON.stringify(states)}\n${logs}`);
  }
  return states;
}

/** The stream leader named by most nodes that answer (the majority's view during a partition). */
export async function leaderOf(cluster: LocalCluster, stream: string, timeoutMs = 30_000): Promise<string> {
  let leader: string | undefined;
  await waitFor(
    async () => {
      const votes = new Map<string, number>();
      for (const s of await streamStateOnNodes(cluster, stream)) if (s.leader) votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
      leader = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      return leader !== undefined;
    },
    timeoutMs,
    100,
  );
  if (!leader) throw new Error(`no node names a leader of ${stream} after ${timeoutMs} ms`);
  return leader;
}

/** Waits until a majority of the nodes names a leader of `stream` other than `old`; returns it and how long it took. */
export async function newLeader(cluster: LocalCluster, stream: string, old: string, timeoutMs = 60_000): Promise<{ leader: string; ms: number }> {
  const t0 = Date.now();
  let leader: string | undefined;
  const majority = Math.floor(cluster.servers.length / 2) + 1;
  const ok = await waitFor(
    async () => {
      const states = await streamStateOnNodes(cluster, stream, 1000);
      const votes = new Map<string, number>();
      for (const s of states) if (s.leader && s.leader !== old) votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
      leader = [...votes.entries()].find(([, n]) => n >= majority)?.[0];
      return leader !== undefined;
    },
    timeoutMs,
    100,
  );
  if (!ok || !leader) throw new Error(`no new leader of ${stream} (other than ${old}) after ${timeoutMs} ms`);
  return { leader, ms: Date.now() - t0 };
}

/**
 * Moves the leadership of `stream` to `node` (a step-down that names its
 * preferred successor, tried up to ten times); throws when it did not move.
 */
export async function leadOn(conn: ChronicleConnection, stream: string, node: string): Promise<void> {
  const leaderNow = async () => (await conn.jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader;
  for (let i = 0; i < 10 && (await leaderNow()) !== node; i++) {
    await conn.nc
      .request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, JSON.stringify({ placement: { preferred: node } }), { timeout: 5000 })
      .catch(() => undefined);
    await waitFor(async () => (await leaderNow()) !== undefined, 10_000);
  }
  const leader = await leaderNow();
  if (leader !== node) throw new Error(`${stream} is led by ${leader}, not ${node}, after ten step-downs`);
}
