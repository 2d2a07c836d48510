// The consumer-group workload of the fault suite: members of one group,
// each in this process on client links of its own, handle the stream while
// faults happen. Promises: every stored event is handled once the faults are
// healed, without an operator; for every key, first handlings follow stream
// order; no partition is handled by two members at once; events run twice
// only within the documented bound (at most `maxUnrecorded` per member per
// fault it lived through).
import { ErrorCode, isChronicleError, startConsumerGroup, type ChronicleConnection, type ConsumerGroupMember } from "@chronicle/runtime";
import { checkGroupRun, concurrentHandlings, describeVerdict } from "../reliability/group-check.js";
import type { Effect } from "../reliability/helpers.js";
import { within } from "../reliability/helpers.js";
import { faultClient, storedValues, waitFor } from "./helpers.js";
import type { Workload } from "./workload.js";

/** Options of {@link groupWorkload}. */
export interface GroupWorkloadOptions {
  /** Member (and client) names; default two, `group-a` and `group-b`. */
  members?: string[];
  /** The group's failover bound, ms; default 4000 (a lease of 1.6 s). */
  failoverMs?: number;
  /** How long after the heal every stored event must have been handled, ms; default 120 s. */
  drainMs?: number;
}

/** A consumer group working through the faults; see the file's comment for its promises. */
export function groupWorkload(options: GroupWorkloadOptions = {}): Workload {
  const names = options.members ?? ["group-a", "group-b"];
  const effects: Effect[] = [];
  const conns: ChronicleConnection[] = [];
  const members: ConsumerGroupMember[] = [];
  const progress: number[] = [];
  const errors: string[] = [];
  let drained = true;
  let stream = "";
  return {
    name: "group",
    async start(ctx) {
      stream = ctx.def.settings.name;
      for (const name of names) {
        const conn = await faultClient(await ctx.cluster.clientUrls(name), name);
        conns.push(conn);
        // a cluster just started may still be electing: a start that times out is tried again, as a supervisor would
        members.push(
          await startWithRetries(() =>
            startConsumerGroup(conn, ctx.def, {
              group: "faults",
              memberId: name,
              failoverMs: options.failoverMs ?? 4000,
              onError: (err) => void errors.push(`${name} ${new Date().toISOString().slice(11, 23)}: ${(err as Error).message}`),
              handlers: {
                Note: async (event, c) => {
                  const at = Date.now();
                  effects.push({ m: name, v: event.value, p: c.partition, s: c.sequence, at });
                  progress.push(at);
                },
              },
            }),
          ),
        );
      }
    },
    async stop() {
      // the producer has stopped: every event it stored must now be handled, with no one's help
      const stored = new Set(await storedValues(conns[0]!, stream));
      const handled = new Set<string>();
      drained = await waitFor(() => {
        for (const e of effects) handled.add(e.v);
        return [...stored].every((v) => handled.has(v));
      }, options.drainMs ?? 120_000);
      if (!drained) {
        const last = new Map<number, number>();
        for (const e of effects) last.set(e.p, Math.max(last.get(e.p) ?? 0, e.s));
        console.log(
          `group not drained: ${[...stored].filter((v) => !handled.has(v)).length} stored events unhandled; ` +
            `last handled sequence per partition ${JSON.stringify([...last].sort((a, b) => a[0] - b[0]))}; ` +
            `owners now ${JSON.stringify(members.map((m) => [m.id, m.partitions()]))}; last errors ${JSON.stringify(errors.slice(-8))}`,
        );
      }
      for (const m of members) await within(30_000, `group member ${m.id} stop`, m.stop());
      for (const c of conns) await within(15_000, "group connection close", c.close());
    },
    async check(ctx) {
      const stored = await storedValues(ctx.conn, stream);
      const verdict = checkGroupRun(effects, stored);
      const concurrent = concurrentHandlings(effects);
      const violations: string[] = [];
      if (!drained || verdict.missing.length) violations.push(`group: not every stored event handled after the heal: ${describeVerdict(verdict)}`);
      if (verdict.outOfOrder.length) violations.push(`group: first handlings out of key order: ${describeVerdict(verdict)}`);
      if (concurrent.length)
        violations.push(`group: ${concurrent.length} times two members handled one partition at once (e.g. ${JSON.stringify(concurrent[0])})`);
      return {
        violations,
        figures: { handled: verdict.handled, handledTwice: verdict.repeated.length, outOfOrder: verdict.outOfOrder.length, twoOwners: concurrent.length },
      };
    },
    longestStall(from, to) {
      let longest = 0;
      let previous = from;
      for (const at of progress) {
        if (at < from) continue;
        if (at > to) break;
        longest = Math.max(longest, at - previous);
        previous = at;
      }
      return Math.max(longest, to - previous);
    },
  };
}

/** Runs `start` until it succeeds, for up to 60 s; a `timeout` (JetStream still electing) is tried again after 1 s. */
async function startWithRetries<T>(start: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await start();
    } catch (err) {
      if (Date.now() > deadline || !(isChronicleError(err, ErrorCode.Timeout) || (err as Error).name === "TimeoutError")) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
