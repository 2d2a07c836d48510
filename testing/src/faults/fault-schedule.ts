import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import type { FaultyCluster } from "./faulty-cluster.js";

/**
 * The faults a schedule draws from:
 *
 * - `kill`: SIGKILL a node, start it again after the fault's duration;
 * - `restart`: stop a node gracefully (SIGTERM), start it again after the duration;
 * - `pause`: SIGSTOP a node, SIGCONT after the duration;
 * - `isolate`: cut a node off from every other node (clients keep their links);
 * - `client-cut`: cut one client off from one node.
 */
export type FaultKind = "kill" | "restart" | "pause" | "isolate" | "client-cut";

/** Every {@link FaultKind}. */
export const FAULT_KINDS: readonly FaultKind[] = ["kill", "restart", "pause", "isolate", "client-cut"];

/** One fault of a schedule: when it starts, what it does to which node, for how long. */
export interface FaultStep {
  /** Start, ms from the start of the schedule. */
  at: number;
  kind: FaultKind;
  /** A node name, or `leader`: whichever node leads when the fault starts. */
  node: string;
  /** The client of a `client-cut`. */
  client?: string;
  durationMs: number;
}

/** Options of {@link createFaultSchedule}. */
export interface FaultScheduleOptions {
  /** Seed of the random choices: the same seed and options give the same schedule. */
  seed: number;
  /** Faults start within this many ms. */
  durationMs: number;
  /** Node names to choose from. */
  nodes: readonly string[];
  /** Client names for `client-cut` faults; none: no such faults. */
  clients?: readonly string[];
  /** Kinds to draw from; default all. */
  kinds?: readonly FaultKind[];
  /** Faults at once, at most; default 2. */
  maxConcurrent?: number;
  /** Shortest and longest fault, ms; default 2,000 and 12,000 (an election takes 4-9 s). */
  minFaultMs?: number;
  maxFaultMs?: number;
  /** Quiet time after each fault starts before the next may start, ms; default 1,000 to 4,000. */
  minGapMs?: number;
  maxGapMs?: number;
  /** Chance that a fault aims at the current leader rather than a random node; default 0.5. */
  leaderBias?: number;
}

/** A small, fast, seedable generator of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws a random schedule of faults from `seed`: the same seed and options
 * always give the same steps, so a failing run is replayed by its seed. No
 * two faults hit the same node at once, and at most `maxConcurrent` run at
 * a time.
 */
export function createFaultSchedule(options: FaultScheduleOptions): FaultStep[] {
  const rnd = seededRandom(options.seed);
  const kinds = (options.kinds ?? FAULT_KINDS).filter((k) => k !== "client-cut" || (options.clients?.length ?? 0) > 0);
  if (kinds.length === 0 || options.nodes.length === 0)
    throw new ChronicleError(ErrorCode.InvalidArgument, "a fault schedule needs nodes and at least one kind of fault");
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const maxConcurrent = options.maxConcurrent ?? 2;
  const steps: FaultStep[] = [];
  let at = between(options.minGapMs ?? 1000, options.maxGapMs ?? 4000);
  while (at < options.durationMs) {
    const active = steps.filter((s) => s.at + s.durationMs > at);
    const kind = pick(kinds);
    const busy = new Set(active.map((s) => s.node));
    const free = options.nodes.filter((n) => !busy.has(n));
    const node = !busy.has("leader") && rnd() < (options.leaderBias ?? 0.5) ? "leader" : free.length > 0 ? pick(free) : undefined;
    if (active.length < maxConcurrent && node !== undefined) {
      steps.push({
        at,
        kind,
        node,
        ...(kind === "client-cut" ? { client: pick(options.clients!) } : {}),
        durationMs: between(options.minFaultMs ?? 2000, options.maxFaultMs ?? 12_000),
      });
    }
    at += between(options.minGapMs ?? 1000, options.maxGapMs ?? 4000);
  }
  return steps;
}

/** One line per step: `+1.2s pause leader 6.0s`. */
export function describeSchedule(steps: readonly FaultStep[]): string {
  return steps
    .map((s) => `+${(s.at / 1000).toFixed(1)}s ${s.kind} ${s.node}${s.client ? `<-${s.client}` : ""} ${(s.durationMs / 1000).toFixed(1)}s`)
    .join("\n");
}

/** A fault as it happened: the node `leader` resolved to, and when it started and ended (ms since the epoch). */
export interface AppliedFault extends FaultStep {
  target: string;
  startedAt: number;
  endedAt: number;
  /** Why the fault could not be applied or undone (a node that did not restart, for one). */
  error?: string;
  /** Not applied: the leader it aimed at was under another fault of the schedule. */
  skipped?: boolean;
}

/** Options of {@link runFaultSchedule}. */
export interface RunFaultScheduleOptions {
  /** Names the current leader (of the stream under test), for steps aimed at `leader`; default the first node. */
  leader?: () => Promise<string | undefined>;
  /** Called with one line as each fault starts and ends. */
  log?: (line: string) => void;
}

/**
 * Runs a schedule against a faulty cluster: each step starts at its time and
 * is undone after its duration (the node restarted or resumed, the link
 * healed). Resolves once every step has been undone, with what happened.
 * A step aimed at the leader while the leader is under another step is
 * skipped (`skipped` in its result): one node never has two faults at once.
 */
export async function runFaultSchedule(cluster: FaultyCluster, steps: readonly FaultStep[], options: RunFaultScheduleOptions = {}): Promise<AppliedFault[]> {
  const t0 = Date.now();
  const log = options.log ?? (() => undefined);
  const applied: AppliedFault[] = [];
  const nodes = new Set(cluster.servers.map((s) => s.name));
  /** Nodes under a fault of this schedule now. */
  const busy = new Set<string>();
  // overlapping steps may cut the same pair: a pair heals when the last step that cut it ends
  const cutBy = new Map<string, number>();
  const cut = async (a: string, b: string) => {
    const key = [a, b].sort().join("\u0000");
    cutBy.set(key, (cutBy.get(key) ?? 0) + 1);
    if (cutBy.get(key) === 1) await cluster.net.cut(a, b);
  };
  const heal = async (a: string, b: string) => {
    const key = [a, b].sort().join("\u0000");
    const n = (cutBy.get(key) ?? 1) - 1;
    if (n > 0) cutBy.set(key, n);
    else {
      cutBy.delete(key);
      await cluster.net.heal(a, b);
    }
  };
  const start = async (step: FaultStep, target: string) => {
    const server = cluster.server(target);
    switch (step.kind) {
      case "kill":
        await server.kill("SIGKILL");
        break;
      case "restart":
        if (cluster.paused.has(target)) await cluster.resume(target);
        await server.kill("SIGTERM");
        break;
      case "pause":
        if (server.running) await cluster.pause(target);
        break;
      case "isolate":
        for (const other of nodes) if (other !== target) await cut(target, other);
        break;
      case "client-cut":
        await cut(step.client!, target);
        break;
    }
  };
  const undo = async (step: FaultStep, target: string) => {
    const server = cluster.server(target);
    switch (step.kind) {
      case "kill":
      case "restart":
        // not waiting for JetStream: an overlapping fault may keep the node from its cluster
        if (!server.running) await server.restart({ waitReady: false });
        break;
      case "pause":
        if (cluster.paused.has(target)) await cluster.resume(target);
        break;
      case "isolate":
        for (const other of nodes) if (other !== target) await heal(target, other);
        break;
      case "client-cut":
        await heal(step.client!, target);
        break;
    }
  };
  const runs = steps.map(async (step) => {
    await sleepUntil(t0 + step.at);
    let target = step.node;
    if (target === "leader") target = (await options.leader?.().catch(() => undefined)) ?? cluster.servers[0]!.name;
    if (!nodes.has(target)) throw new ChronicleError(ErrorCode.InvalidArgument, `fault step names no node of the cluster: ${target}`);
    const fault: AppliedFault = { ...step, target, startedAt: Date.now(), endedAt: 0 };
    applied.push(fault);
    // a leader named while it is under another fault (the others still name a killed leader for a
    // moment): two faults on one node would restart it twice at once
    if (busy.has(target)) {
      fault.skipped = true;
      fault.endedAt = fault.startedAt;
      log(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${step.kind} ${target} skipped: ${target} is under another fault`);
      return;
    }
    busy.add(target);
    log(
      `+${((Date.now() - t0) / 1000).toFixed(1)}s ${step.kind} ${target}${step.client ? `<-${step.client}` : ""} for ${(step.durationMs / 1000).toFixed(1)}s`,
    );
    try {
      await start(step, target);
      await sleepUntil(fault.startedAt + step.durationMs);
      await undo(step, target);
    } catch (err) {
      fault.error = String(err);
      log(`fault ${step.kind} ${target} failed: ${fault.error}`);
    }
    busy.delete(target);
    fault.endedAt = Date.now();
    log(`+${((Date.now() - t0) / 1000).toFixed(1)}s end of ${step.kind} ${target}`);
  });
  await Promise.all(runs);
  return applied;
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
}
