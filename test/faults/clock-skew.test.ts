// Issue #22, clock skew: clients whose wall clock is off by a day, or is
// stepped (as NTP does) while they work, through libfaketime in a child
// process. The server's clock cannot be skewed here (see docs/reliability.md):
// nats-server is a Go program, which reads the clock without the C library.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type ChronicleConnection } from "@chronicle/runtime";
import { clockSkewSupport, skewedClock, startFaultyCluster, type FaultyCluster, type SkewedClock } from "@chronicle/testing";
import { noteStream } from "../reliability/helpers.js";
import { checkStream, leaderOf, provisionWhenReady, sleep, waitFor } from "./helpers.js";
import type { SkewedClientConfig } from "./fixtures/skewed-client.js";

const support = clockSkewSupport();
if (!support.ok) console.warn(`skipping the clock-skew tests: ${support.reason}`);

const DAY = 24 * 3600_000;
const fixture = fileURLToPath(new URL("./fixtures/skewed-client.ts", import.meta.url));

interface Final {
  done: true;
  acked?: [string, boolean][];
  failed?: { value: string; code: string; message: string }[];
  recorded?: number;
  found?: number;
  now: number;
}

/** A skewed client process: its progress (timed by this process's true clock) and its outcome. */
interface Skewed {
  child: ChildProcess;
  progress: { at: number; acked: number; failed: number; oldest: number }[];
  /** Asks it to stop (publish mode) and resolves with its last line. */
  finish(): Promise<Final>;
}

function startSkewed(config: SkewedClientConfig, clock: SkewedClock): Skewed {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", fixture, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...clock.env },
  });
  const progress: Skewed["progress"] = [];
  let final: Final | undefined;
  let err = "";
  let buf = "";
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const msg = JSON.parse(line) as Final | { acked: number; failed: number; oldest: number };
      if ("done" in msg) final = msg;
      else progress.push({ at: Date.now(), ...msg });
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    progress,
    async finish() {
      child.stdin!.write("stop\n");
      await exited;
      if (!final) throw new Error(`skewed client exited without an outcome: ${err}`);
      return final;
    },
  };
}

/** The oldest publish in flight, at most, in the progress lines from `from` on, ms; and in the last line. */
function oldestAfter(s: Skewed, from: number): { max: number; last: number } {
  return { max: Math.max(0, ...s.progress.filter((p) => p.at >= from).map((p) => p.oldest)), last: s.progress.at(-1)?.oldest ?? 0 };
}

let cluster: FaultyCluster;
let conn: ChronicleConnection;
const clocks: SkewedClock[] = [];
const children: ChildProcess[] = [];

describe.skipIf(!support.ok)("clock skew of a client", () => {
  beforeAll(async () => {
    cluster = await startFaultyCluster({ nodes: 3 });
    conn = await connect({ servers: cluster.urls, name: "checks" });
  }, 90_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const c of clocks) c.dispose();
    await conn?.close();
    await cluster?.stop();
  }, 60_000);

  const clock = (offsetMs: number) => {
    const c = skewedClock(offsetMs);
    clocks.push(c);
    return c;
  };
  const client = async (name: string, config: Omit<SkewedClientConfig, "servers">, c: SkewedClock) => {
    const s = startSkewed({ ...config, servers: await cluster.clientUrls(name) }, c);
    children.push(s.child);
    return s;
  };

  it(
    "producers a day behind and a day ahead publish the same dedup keys: each stored once (the duplicate window runs on the server's clock)",
    { timeout: 120_000 },
    async () => {
      const def = noteStream("skewdedup", 4, 3);
      await provisionWhenReady(conn, def);
      const base = { stream: "skewdedup", partitions: 4, replicas: 3, mode: "publish" as const, prefix: "d", limit: 2000, ratePerSec: 2000 };
      const behind = await client("behind", base, clock(-DAY));
      expect(await waitFor(() => (behind.progress.at(-1)?.acked ?? 0) >= 2000, 60_000)).toBe(true);
      const ahead = await client("ahead", base, clock(+DAY));
      expect(await waitFor(() => (ahead.progress.at(-1)?.acked ?? 0) >= 2000, 60_000)).toBe(true);
      const [b, a] = [await behind.finish(), await ahead.finish()];
      const check = await checkStream(
        conn,
        "skewdedup",
        b.acked!.map(([v]) => v),
      );
      const aheadStored = a.acked!.filter(([, dup]) => !dup).length;
      // ce-time is the producer's own clock: a reader sees the skew
      const first = (await conn.jsm.streams.getMessage("skewdedup", { seq: 1 }))!;
      const ceTimeSkewMs = Date.parse(first.header.get("ce-time")) - first.time.getTime();
      console.log(
        `producers a day behind and ahead: stored ${check.stored}, second producer's events stored again ${aheadStored}, lost ${check.lost.length}, ` +
          `twice ${check.twice.length}, ce-time minus server time of the first event ${(ceTimeSkewMs / 3600_000).toFixed(2)} h`,
      );
      expect(b.failed).toEqual([]);
      expect(a.failed).toEqual([]);
      expect(aheadStored).toBe(0);
      expect(check.lost).toEqual([]);
      expect(check.twice).toEqual([]);
      expect(Math.abs(ceTimeSkewMs + DAY)).toBeLessThan(60_000);
    },
  );

  it("idempotency records from clients a day behind and a day ahead are found (the bucket's TTL runs on the server's clock)", { timeout: 60_000 }, async () => {
    const outcomes: Final[] = [];
    for (const [name, offset] of [
      ["rec-behind", -DAY],
      ["rec-ahead", +DAY],
    ] as const) {
      const s = await client(
        name,
        { stream: "-", partitions: 1, replicas: 3, mode: "record", prefix: `${name}-`, limit: 200, bucket: "idem_skew" },
        clock(offset),
      );
      outcomes.push(await s.finish());
    }
    console.log(`KV records from skewed clients: ${outcomes.map((o) => `${o.recorded} recorded, ${o.found} found`).join("; ")}`);
    for (const o of outcomes) expect([o.recorded, o.found]).toEqual([200, 200]);
  });

  // The producer times its ack timeouts and its publish timeout on the monotonic clock
  // (performance.now()): a wall clock stepped back must not hold back its retries, and one stepped
  // forward must not fail the publishes in flight. With Date.now() in their place both tests fail
  // (docs/reliability.md, F13 and F14, has the figures).
  const ACK_TIMEOUT_MS = 1000;
  async function steppedProducer(stream: string, name: string) {
    await provisionWhenReady(conn, noteStream(stream, 4, 3));
    const leader = await leaderOf(cluster, stream);
    const follower = cluster.servers.map((s) => s.name).find((n) => n !== leader)!;
    const urls = await cluster.clientUrls(name);
    const at = cluster.servers.findIndex((s) => s.name === follower);
    const c = clock(0);
    const s = startSkewed(
      {
        servers: [urls[at]!, ...urls.filter((_, i) => i !== at)],
        stream,
        partitions: 4,
        replicas: 3,
        mode: "publish",
        prefix: "t",
        ratePerSec: 500,
        ackTimeoutMs: ACK_TIMEOUT_MS,
        publishTimeoutMs: 30_000,
      },
      c,
    );
    children.push(s.child);
    expect(await waitFor(() => (s.progress.at(-1)?.acked ?? 0) >= 1000, 60_000)).toBe(true);
    return { s, c, leader, follower };
  }
  /**
   * Holds up the routes between the producer's node and the leader for 2 s, steps the producer's clock
   * by `stepMs` meanwhile (when given), then resets those routes: what they held (publishes sent before
   * the step, acks) is lost, while the client's own connection stays up. Returns when the loss began.
   */
  async function loseAcks(follower: string, leader: string, c: SkewedClock, stepMs?: number): Promise<number> {
    const at = Date.now();
    await cluster.net.cut(follower, leader, "drop");
    await sleep(500);
    if (stepMs !== undefined) c.set(stepMs);
    await sleep(1500); // libfaketime reads the offset at most once a second
    await cluster.net.cut(follower, leader, "reject");
    await sleep(300);
    await cluster.net.heal(follower, leader);
    return at;
  }

  it(
    "the producer's clock steps back an hour while acknowledgements are lost: it resends them as it does with a true clock",
    { timeout: 120_000 },
    async () => {
      const { s, c, leader, follower } = await steppedProducer("stepback", "stepback");
      // the same loss twice, with the true clock and with the clock stepped back while the publishes were
      // on their way: those whose ack was lost are resent after the ack timeout and stored once the routes
      // are back (a few seconds here)
      const WINDOW_MS = 12_000;
      const baselineAt = await loseAcks(follower, leader, c);
      await waitFor(() => (s.progress.at(-1)?.at ?? 0) > baselineAt + WINDOW_MS, WINDOW_MS + 10_000);
      const baseline = oldestAfter(s, baselineAt);
      const steppedAt = await loseAcks(follower, leader, c, -3600_000);
      await waitFor(() => (s.progress.at(-1)?.at ?? 0) > steppedAt + WINDOW_MS, WINDOW_MS + 10_000);
      const stepped = oldestAfter(s, steppedAt);
      c.set(0);
      const final = await s.finish();
      console.log(
        `clock stepped back 1 h: oldest publish in flight after lost acks ${baseline.max} ms with the true clock (${baseline.last} ms at the end of ${WINDOW_MS} ms), ` +
          `${stepped.max} ms after the step (${stepped.last} ms at the end); ack timeout ${ACK_TIMEOUT_MS} ms; failed when the clock was set right ${final.failed?.length}`,
      );
      // with the true clock every lost publish was resent and stored well inside the window (baseline.last is
      // a few ms); after the step, those sent before it are still waiting at the end of the window
      expect(stepped.last, "publishes whose ack was lost wait for the clock to catch up").toBeLessThan(3000);
    },
  );

  it("the producer's clock steps forward 2 minutes while acknowledgements are held up: no publish fails for it", { timeout: 120_000 }, async () => {
    const { s, c, leader, follower } = await steppedProducer("stepfwd", "stepfwd");
    // acknowledgements held up (not lost) for 3 s, the clock stepped forward meanwhile
    await cluster.net.cut(follower, leader, "drop");
    await sleep(1000);
    c.set(120_000);
    await sleep(2000);
    await cluster.net.heal(follower, leader);
    await sleep(2000);
    const final = await s.finish();
    const failed = final.failed ?? [];
    console.log(
      `clock stepped forward 2 min: ${failed.length} publishes failed (${[...new Set(failed.map((f) => `${f.code}: ${f.message}`))].slice(0, 1).join(",")})`,
    );
    expect(failed).toEqual([]);
  });
});
