// Shared helpers of the reliability suite. Internal to the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { createProducer, defineStream, ensureStream, type ChronicleConnection, type PublishResult, type StreamDefinition } from "@chronicle/runtime";

/** `CHRONICLE_SOAK=1` (npm run test:soak) scales counts and rounds up. */
export const SOAK = process.env["CHRONICLE_SOAK"] === "1";

/** `bounded` in the default suite, `soak` under CHRONICLE_SOAK=1. */
export const scaled = (bounded: number, soak: number): number => (SOAK ? soak : bounded);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return await cond();
}

/**
 * `work`, or an error naming `what` when it has not settled within `ms`: a
 * step of a test that hangs fails with its name instead of the test's
 * timeout. The work itself goes on in the background.
 */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export type NoteStream = StreamDefinition<{ Note: typeof StringValueSchema }>;

/**
 * A stream with one event type `Note` (a StringValue `<key>:<n>`); its
 * idempotency key is `<key>_<n>`, plain enough that the store key ends with it.
 */
export function noteStream(name: string, partitions: number, replicas = 1, duplicateWindowMs = 120_000, storage: "file" | "memory" = "file"): NoteStream {
  return defineStream<{ Note: typeof StringValueSchema }>(
    { name, partitions, replicas, storage, duplicateWindowMs },
    {
      Note: {
        schema: StringValueSchema,
        name: "Note",
        type: "google.protobuf.StringValue",
        keyPath: "value",
        key: (e) => e.value.split(":")[0]!,
        idempotencyKeyPath: "value",
        idempotencyKey: (e) => e.value.replace(":", "_"),
      },
    },
  );
}

/**
 * Provisions a note stream with `ensureStream`. With
 * CHRONICLE_RELIABILITY_BREAK=dedup the server's duplicate window is 100 ms
 * (the producer still believes 2 minutes), so retries are no longer
 * deduplicated: the tests must then see events stored twice. With `=dlq` the
 * same is done to the dead-letter stream only; with `=memory` the stream is
 * kept in memory.
 */
export async function provision(conn: ChronicleConnection, def: NoteStream): Promise<void> {
  const s = def.settings;
  // CHRONICLE_RELIABILITY_BREAK=memory: memory storage, so acknowledged events do not survive a
  // crash of every replica (the all-nodes kill and the SIGKILL-after-acks tests must then fail)
  const storage = BREAK === "memory" ? "memory" : s.storage;
  await ensureStream(conn, noteStream(s.name, s.partitions, s.replicas, BREAK === "dedup" ? 100 : s.duplicateWindowMs, storage));
  // CHRONICLE_RELIABILITY_BREAK=dlq: the dead-letter stream's duplicate window is 100 ms (2 minutes
  // by default), so a dead letter published again (its member died before terminating the
  // original, or the ack of the first publish was lost) is stored twice
  if (BREAK === "dlq") await conn.jsm.streams.update(`${s.name}_dlq`, { duplicate_window: 100 * 1_000_000 });
}

/** `count` notes over `keys` keys, numbered per key: `k<i % keys>:<n>`. */
export function notes(count: number, keys: number, prefix = "k"): string[] {
  const perKey = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const key = `${prefix}${i % keys}`;
    const n = perKey.get(key) ?? 0;
    perKey.set(key, n + 1);
    return `${key}:${n}`;
  });
}

/** One leader election of a stream, as JetStream announced it: the new leader and when the announcement arrived (`Date.now()`). */
export interface LeaderElection {
  leader: string;
  at: number;
}

/**
 * Records the leader elections of `stream` from JetStream's advisories
 * (`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.<stream>`): the moment the
 * cluster announces a new leader, which is what a producer can react to
 * (polling `streams.info` adds the API's own delays under load). Stop with
 * `stop()`.
 */
export function watchLeaderElections(conn: ChronicleConnection, stream: string): { elections: LeaderElection[]; stop(): void } {
  const elections: LeaderElection[] = [];
  const sub = conn.nc.subscribe(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}`, {
    callback: (err, msg) => {
      if (err === null) elections.push({ leader: String((msg.json() as { leader?: string }).leader), at: Date.now() });
    },
  });
  return { elections, stop: () => sub.unsubscribe() };
}

/** Outcome of {@link publishAll}: values whose publish resolved, and the failures. */
export interface PublishOutcome {
  acked: Map<string, PublishResult>;
  failed: { value: string; error: Error }[];
  /** Longest time between two consecutive acknowledgements, ms (the producer's stall across a fault). */
  maxAckGapMs: number;
}

/**
 * Publishes `values` with the runtime producer (dedup key = value), `window`
 * at a time; `onProgress(sentSoFar, outcomeSoFar)` runs while each window is
 * in flight. A window as large as `values` keeps `maxInFlight` (2000)
 * publishes in flight all the way through (the producer's backpressure holds
 * the rest), so that a fault injected from `onProgress` once enough are
 * acknowledged always lands mid-publish.
 */
export async function publishAll(
  conn: ChronicleConnection,
  def: NoteStream,
  values: readonly string[],
  options: { window?: number; ackTimeoutMs?: number; onProgress?: (done: number, outcome: PublishOutcome) => void | Promise<void> } = {},
): Promise<PublishOutcome> {
  const producer = createProducer(conn, def, { ackTimeoutMs: options.ackTimeoutMs ?? 1000, maxInFlight: 2000 });
  const out: PublishOutcome = { acked: new Map(), failed: [], maxAckGapMs: 0 };
  const window = options.window ?? 1000;
  let lastAck = Date.now();
  for (let i = 0; i < values.length; i += window) {
    const batch = Promise.all(
      values.slice(i, i + window).map((value) =>
        producer.publish("Note", { value }, { dedupKey: value }).then(
          (r) => {
            out.acked.set(value, r);
            const now = Date.now();
            out.maxAckGapMs = Math.max(out.maxAckGapMs, now - lastAck);
            lastAck = now;
          },
          (error: unknown) => void out.failed.push({ value, error: error as Error }),
        ),
      ),
    );
    // called while this window is in flight, so that a fault injected here hits publishes awaiting their acks
    await options.onProgress?.(Math.min(i + window, values.length), out);
    await batch;
  }
  await producer.close();
  return out;
}

/** Reads every stored Note of a stream with a throwaway ordered read; returns value -> count. */
export async function storedCounts(conn: ChronicleConnection, stream: string): Promise<Map<string, number>> {
  // right after a restart the client may still be reconnecting: try for 30 s
  for (let attempt = 0; ; attempt++) {
    try {
      return await readCounts(conn, stream);
    } catch (err) {
      if (attempt >= 60) throw new Error(`cannot read stream ${stream} for 30 s (gone with every event in it?): ${String(err)}`, { cause: err });
      await sleep(500);
    }
  }
}

async function readCounts(conn: ChronicleConnection, stream: string): Promise<Map<string, number>> {
  const { fromBinary } = await import("@bufbuild/protobuf");
  const info = await conn.jsm.streams.info(stream);
  const counts = new Map<string, number>();
  if (info.state.messages === 0) return counts;
  const oc = await conn.js.consumers.get(stream);
  const it = await oc.consume();
  let seen = 0;
  for await (const m of it) {
    const v = fromBinary(StringValueSchema, m.data).value;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    if (++seen >= info.state.messages || m.info.pending === 0) break;
  }
  await it.close();
  return counts;
}

/** One handled effect as a member recorded it (a line of the effects file). */
export interface Effect {
  m: string;
  v: string;
  p: number;
  s: number;
  /** When the effect was appended (ms since the epoch). */
  at: number;
  /** When its handler started, where the member records it: a handler paused mid-run appends long after it started. */
  st?: number;
}

/** Reads the effects file that member processes append to (one JSON line per effect). */
export function readEffects(file: string): Effect[] {
  if (!existsSync(file)) return [];
  // a line a member is writing while this reads may be incomplete: it is read again next time
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{") && l.endsWith("}"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Effect];
      } catch {
        return [];
      }
    });
}

/** Configuration of a member process (test/reliability/fixtures/member.ts). */
export interface MemberConfig {
  servers: string[];
  stream: string;
  partitions: number;
  replicas?: number;
  group: string;
  memberId: string;
  effectsFile: string;
  /** `state`: the default (idempotency from the partition state); `kv`: the per-event KV store; `sqlite`: the SQL inbox. */
  store: "state" | "kv" | "sqlite";
  sqlitePath?: string;
  failoverMs?: number;
  handlerDelayMs?: number;
  /** CPU time each handler spends before its effect (a busy wait), ms. */
  handlerSpinMs?: number;
  /** Probability of a SIGKILL of itself right after the effect (before the record). */
  crashAfterEffect?: number;
  /** Probability of a SIGKILL of itself after the record, before the ack. */
  crashAfterRecord?: number;
  /** SIGKILL itself after its Nth record (KV store), so every run has this case. */
  crashAfterRecordAt?: number;
  /** Handler always throws (for dead-letter tests); attempts before dead-lettering. */
  alwaysFail?: boolean;
  maxAttempts?: number;
  /** Disable the idempotency store / inbox (CHRONICLE_RELIABILITY_BREAK=store), to prove the tests catch it. */
  breakStore?: boolean;
}

/**
 * Set CHRONICLE_RELIABILITY_BREAK to check that the suite fails when a promise
 * is broken: `dedup`, `dlq`, `memory` (see {@link provision}), `store` (the
 * member fixture's idempotency store forgets), `failover` (member-freeze),
 * `durability` (durability.test.ts), `auth` (access-control.test.ts).
 */
export const BREAK = process.env["CHRONICLE_RELIABILITY_BREAK"] ?? "";

const memberScript = fileURLToPath(new URL("./fixtures/member.ts", import.meta.url));

/** A member process; resolves once it joined the group (or killed itself on purpose). */
export async function spawnMember(config: MemberConfig): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", memberScript, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`member ${config.memberId} not ready after 60 s: ${err}`)), 60_000);
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      // a member told to crash may SIGKILL itself before it printed "ready"
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`member ${config.memberId} exited (${code ?? signal}) before joining: ${err}`));
    });
  });
  return child;
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}

/** Kills a member process this test started, by its pid, and waits for it. */
export async function killMember(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (signal !== "SIGSTOP" && signal !== "SIGCONT") await exited(child);
}
