// One fault scenario: a fresh R3 stream, workloads started, a fault (an
// async function of the current leader and followers), heal, then the
// storage promises checked.
import type { ChronicleConnection } from "@chronicle/runtime";
import type { FaultyCluster, ReplicaState } from "@chronicle/testing";
import { noteStream, publishAll, within } from "../reliability/helpers.js";
import { leaderOf, provisionWhenReady, replicasAgree, waitFor } from "./helpers.js";
import { producerWorkload, type ProducerWorkloadOptions, type Workload, type WorkloadReport } from "./workload.js";

/** The leader and followers of the scenario's stream when the fault starts. */
export interface FaultTargets {
  leader: string;
  followers: string[];
}

/** Options of {@link runScenario}. */
export interface ScenarioOptions {
  stream: string;
  /** Where the producer's client starts: on the stream leader (default) or a follower. */
  startAt?: "leader" | "follower";
  /** Publishes per second of the producer; default 1000. */
  ratePerSec?: number;
  /** The producer's ack timeout, ms; default 1000 (the runtime's own default is 5000). */
  ackTimeoutMs?: number;
  /** Extra workloads beside the producer (a consumer group, a client stuck with one node), given the targets. */
  workloads?: (targets: FaultTargets) => Workload[];
  /**
   * How long after the workloads stop every replica must hold the same copy,
   * ms; default 60 s. Until then only a majority must.
   */
  catchUpMs?: number;
  /** A replica still behind after `catchUpMs`: a violation (default), or only reported (`caughtUpMs` -1). */
  lagging?: "violation" | "report";
  /** How long the fault may take before the scenario fails naming it, ms; default 180 s. */
  faultBoundMs?: number;
  /** The fault; the scenario heals every link and resumes every node after it returns. */
  fault(targets: FaultTargets): Promise<void>;
}

/** What a scenario saw. */
export interface ScenarioResult extends FaultTargets {
  /** The reports of the producer and of every other workload. */
  reports: WorkloadReport[];
  /** Every broken promise, one line each. */
  violations: string[];
  /** Longest time without an acknowledgement overlapping the fault and the recovery after it, ms. */
  stallMs: number;
  /** When (ms since the epoch) the producer's last acknowledgement of a publish called before `t` arrived. */
  lastAckOfCalledBefore(t: number): number;
  /** From the heal until the producer had 200 more acknowledgements, ms. */
  resumedAfterHealMs: number;
  /** Each node's copy once they agree (or a majority does, with `lagging: "report"`). */
  states: ReplicaState[];
  /** From the end of the workloads until every replica held the same copy, ms; -1: not within `catchUpMs`. */
  caughtUpMs: number;
}

const RESEND = 1000;

/**
 * Runs one scenario on `cluster`. After the heal, the last 1,000 events
 * acknowledged before the fault (or, when the faults outlasted the
 * duplicate window, before its last 90 s) are sent again with their dedup
 * keys, as a producer that lost those acknowledgements would: whichever
 * node leads now must know them and store none again. Checks: no acknowledged event lost,
 * none stored twice, failures only with documented codes, every replica
 * the same, publishing resumes after the heal.
 */
export async function runScenario(cluster: FaultyCluster, conn: ChronicleConnection, options: ScenarioOptions): Promise<ScenarioResult> {
  const began = Date.now();
  // each step is logged as it starts and bounded, so that a step that hangs is named in the failure
  const step = <T>(what: string, ms: number, work: () => Promise<T>): Promise<T> => {
    console.log(`${options.stream}: ${what} (+${((Date.now() - began) / 1000).toFixed(1)} s)`);
    return within(ms, `${options.stream}: ${what}`, work());
  };
  const def = noteStream(options.stream, 4, 3);
  await provisionWhenReady(conn, def);
  const leader = await leaderOf(cluster, options.stream);
  const followers = cluster.servers.map((s) => s.name).filter((n) => n !== leader);
  const producerOptions: ProducerWorkloadOptions = {
    startAt: options.startAt === "follower" ? followers[0]! : leader,
    ratePerSec: options.ratePerSec ?? 1000,
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
  };
  const producer = producerWorkload(producerOptions);
  const ctx = { cluster, conn, def };
  const all = [producer, ...(options.workloads?.({ leader, followers }) ?? [])];
  for (const w of all) await step(`start ${w.name}`, 90_000, () => w.start(ctx));
  const load = producer.load();
  if (!(await waitFor(() => load.acked.size >= 1000, 60_000))) throw new Error(`only ${load.acked.size} acknowledged before the fault`);
  const faultAt = Date.now();
  try {
    await step("fault", options.faultBoundMs ?? 180_000, () => options.fault({ leader, followers }));
  } finally {
    await cluster.healAll();
  }
  const healAt = Date.now();
  console.log(`${options.stream}: healed (+${((healAt - began) / 1000).toFixed(1)} s)`);
  const ackedAtHeal = load.acked.size;
  const resumed = await waitFor(() => load.acked.size >= ackedAtHeal + 200, 60_000);
  const resumedAfterHealMs = Date.now() - healAt;
  const recoveredAt = Date.now();
  for (const w of all) await step(`stop ${w.name}`, 180_000, () => w.stop());

  // a majority agrees (the stream is whole); then every replica must catch up within catchUpMs
  console.log(`${options.stream}: workloads stopped (+${((Date.now() - began) / 1000).toFixed(1)} s)`);
  let states = await replicasAgree(cluster, options.stream, 60_000, Math.floor(cluster.servers.length / 2) + 1);
  // events acknowledged before the fault, or, after faults that outlasted the duplicate window, the
  // last acknowledged before its last 90 s (each leader change since must have kept their ids)
  const before = load.ackedBefore(Math.max(faultAt, Date.now() - def.settings.duplicateWindowMs + 30_000), RESEND);
  // sent now, while they are inside the window (catching up below may take minutes)
  const again = await step(`re-send ${before.length} events`, 60_000, () => publishAll(conn, def, before, { window: before.length }));
  let caughtUpMs = -1;
  try {
    states = await replicasAgree(cluster, options.stream, options.catchUpMs ?? 60_000);
    caughtUpMs = Date.now() - recoveredAt;
  } catch (err) {
    if (options.lagging !== "report") throw err;
  }
  const storedAgain = [...again.acked.values()].filter((r) => !r.duplicate).length;
  const reports: WorkloadReport[] = [];
  for (const w of all) reports.push(await step(`check ${w.name}`, 60_000, () => w.check(ctx)));
  const violations = reports.flatMap((r) => r.violations);
  if (!resumed) violations.push(`publishing did not resume within 60 s of the heal (${load.acked.size - ackedAtHeal} acknowledgements)`);
  if (storedAgain > 0) violations.push(`${storedAgain} of ${before.length} events acknowledged before the fault were stored again when re-sent after it`);
  if (again.failed.length > 0) violations.push(`${again.failed.length} re-sent events failed: ${again.failed[0]!.error.message}`);
  return {
    leader,
    followers,
    reports,
    violations,
    stallMs: producer.longestStall(faultAt, recoveredAt),
    lastAckOfCalledBefore: (t) => load.lastAckOfCalledBefore(t),
    resumedAfterHealMs,
    states,
    caughtUpMs,
  };
}

/** One line of figures for the test log. */
export function describeResult(name: string, r: ScenarioResult): string {
  const figures = r.reports
    .map((rep) =>
      Object.entries(rep.figures)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    )
    .join(" | ");
  return `${name}: leader=${r.leader} stallMs=${r.stallMs} resumedAfterHealMs=${r.resumedAfterHealMs} caughtUpMs=${r.caughtUpMs} lastSeq=${Math.max(0, ...r.states.map((s) => s.lastSeq))} ${figures} violations=${r.violations.length}`;
}
