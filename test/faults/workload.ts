// Workloads of the fault suite: what keeps working while faults happen, and
// the promises it checks afterwards. A scenario (or the mixed-fault soak)
// runs any set of workloads against a faulty cluster.
//
// Adding one: implement
// `Workload` in a file of this folder, register its factory in `WORKLOADS`
// below, and the mixed-fault soak runs it with `--workloads producer,<name>`
// (CHRONICLE_FAULTS_WORKLOADS in the test). Its `check` returns the
// violations of its promises (per-key order, one owner per partition, resumed
// after heal, ...) and the figures worth printing.
import type { ChronicleConnection } from "@chronicle/runtime";
import type { FaultyCluster } from "@chronicle/testing";
import { ErrorCode, isChronicleError } from "@chronicle/runtime";
import type { NoteStream } from "../reliability/helpers.js";
import { groupWorkload } from "./group-workload.js";
import { checkStream, faultClient, startPublishing, type PublishLoad, type PublishingOptions } from "./helpers.js";

/** What a workload works on. */
export interface WorkloadContext {
  cluster: FaultyCluster;
  /** A connection straight to every node (never cut): for set-up and checks only. */
  conn: ChronicleConnection;
  def: NoteStream;
}

/** Result of a workload's checks. */
export interface WorkloadReport {
  /** Broken promises, one line each; empty when every promise held. */
  violations: string[];
  /** Figures worth printing (counts, longest stall). */
  figures: Record<string, number | string>;
}

/** Something that works while faults happen, then checks its promises. */
export interface Workload {
  readonly name: string;
  start(ctx: WorkloadContext): Promise<void>;
  /** Stops working and waits for what is in flight. */
  stop(): Promise<void>;
  /** Checks the promises once the faults are healed and the workload stopped. */
  check(ctx: WorkloadContext): Promise<WorkloadReport>;
  /** The longest time without progress that overlaps `[from, to]`, ms. */
  longestStall(from: number, to: number): number;
}

/**
 * Error codes a publish may fail with under faults, as docs/producer.md lists
 * them: no acknowledgement within the publish timeout ("may or may not be
 * stored"), nothing storing the subject after the retries (no stream leader
 * for that long), the cluster refusing the write until the retries ran out,
 * or given up when the connection closed.
 */
export const FAULT_ERROR_CODES: readonly string[] = [ErrorCode.Timeout, ErrorCode.NoResponders, ErrorCode.Unavailable, ErrorCode.Closed];

/** Options of {@link producerWorkload}. */
export interface ProducerWorkloadOptions extends PublishingOptions {
  /** Client name of its links; default "producer". */
  client?: string;
  /** Node the client dials first (default the first node); the others follow in order. */
  startAt?: string;
  /** Dial `startAt` only, never another node: a client that cannot fail over. */
  only?: boolean;
  /** Ping interval of its connection, ms (see `faultClient`); default 1000. */
  pingMs?: number;
}

/**
 * A runtime producer publishing through its own client links. Promises: no
 * acknowledged event lost, none stored twice, and every failed publish fails
 * with a documented code ({@link FAULT_ERROR_CODES}).
 */
export function producerWorkload(options: ProducerWorkloadOptions = {}): Workload & { load(): PublishLoad } {
  const client = options.client ?? "producer";
  let conn: ChronicleConnection | undefined;
  let load: PublishLoad | undefined;
  return {
    name: client,
    load: () => load!,
    async start(ctx) {
      const urls = await ctx.cluster.clientUrls(client);
      const first = ctx.cluster.servers.findIndex((s) => s.name === (options.startAt ?? ctx.cluster.servers[0]!.name));
      conn = await faultClient(options.only ? [urls[first]!] : [urls[first]!, ...urls.filter((_, i) => i !== first)], client, options.pingMs ?? 1000);
      load = startPublishing(conn, ctx.def, options);
    },
    async stop() {
      await load?.stop();
      await conn?.close();
    },
    async check(ctx) {
      const l = load!;
      const { lost, twice, stored, staleReads } = await checkStream(ctx.conn, ctx.def.settings.name, l.acked.keys());
      const unclear = l.failed.filter((f) => !(isChronicleError(f.error) && FAULT_ERROR_CODES.includes(f.error.code)));
      const codes = new Map<string, number>();
      for (const f of l.failed) {
        const key = isChronicleError(f.error) ? f.error.code : f.error.name;
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
      const violations: string[] = [];
      if (lost.length) violations.push(`${client}: ${lost.length} acknowledged events lost (e.g. ${lost.slice(0, 3).join(" ")})`);
      if (twice.length) violations.push(`${client}: ${twice.length} events stored more than once (e.g. ${twice.slice(0, 3).join(" ")})`);
      if (unclear.length)
        violations.push(`${client}: ${unclear.length} publishes failed with an undocumented error (e.g. ${unclear[0]!.value}: ${unclear[0]!.error.message})`);
      return {
        violations,
        figures: {
          sent: l.sent,
          acked: l.acked.size,
          failed: l.failed.length,
          failures: [...codes].map(([c, n]) => `${c}:${n}`).join(",") || "-",
          lost: lost.length,
          storedTwice: twice.length,
          stored,
          staleReads,
          longestAckGapMs: l.longestGap(),
          longestPublishMs: l.longestLatencyMs,
        },
      };
    },
    longestStall: (from, to) => load?.longestGap(from, to) ?? 0,
  };
}

/** What a workload factory is given: the scenario's targets and a prefix of its own for its values. */
export interface WorkloadSetup {
  leader: string;
  followers: string[];
  prefix: string;
}

/**
 * Workloads the mixed-fault runs can add beside their producer, by name
 * (`--workloads` of `npm run test:soak -- --faults`, CHRONICLE_FAULTS_WORKLOADS
 * in the test).
 */
export const WORKLOADS: Record<string, (setup: WorkloadSetup) => Workload> = {
  /** A producer that only knows the first stream leader: it cannot fail over, and is the first to talk to that node after each of its faults. */
  "stale-producer": ({ leader, prefix }) => producerWorkload({ client: "stale", prefix, startAt: leader, only: true, ratePerSec: 200 }),
  /** A consumer group of two members, each on client links of its own (test/faults/group-workload.ts). */
  group: () => groupWorkload(),
};
