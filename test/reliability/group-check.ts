// The consumer-group invariant, checked over the effects members append to
// a file: for every key, the first handling of each event follows stream
// order; and how many events were handled more than once. Internal to the tests.
import type { Effect } from "./helpers.js";

/** What {@link checkGroupRun} found. */
export interface GroupVerdict {
  /** Distinct events handled. */
  handled: number;
  /** Expected values never handled. */
  missing: string[];
  /** Events handled more than once. */
  repeated: string[];
  /**
   * The member that first handled each repeated event: the handling whose
   * handler started first (a member paused in the middle of a handler
   * appends its effect when it wakes, after another member's).
   */
  repeatedFirstBy: Map<string, string>;
  /** First handlings that came after a later event of the same key (stream order). */
  outOfOrder: { value: string; sequence: number; after: number }[];
}

/**
 * Checks a run: `effects` in the order they were appended (one file, written
 * with O_APPEND by every member, so its order is the order of the handlings),
 * values `<key>:<n>`, `s` the event's stream sequence.
 */
export function checkGroupRun(effects: readonly Effect[], expected: readonly string[]): GroupVerdict {
  const seen = new Map<string, number>();
  const firstBy = new Map<string, { m: string; started: number }>();
  const highest = new Map<string, number>();
  const outOfOrder: GroupVerdict["outOfOrder"] = [];
  for (const e of effects) {
    const n = seen.get(e.v) ?? 0;
    seen.set(e.v, n + 1);
    const started = e.st ?? e.at;
    const earliest = firstBy.get(e.v);
    if (!earliest || started < earliest.started) firstBy.set(e.v, { m: e.m, started });
    if (n > 0) continue;
    const key = e.v.slice(0, e.v.indexOf(":"));
    const top = highest.get(key) ?? 0;
    if (e.s < top) outOfOrder.push({ value: e.v, sequence: e.s, after: top });
    else highest.set(key, e.s);
  }
  const repeated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
  return {
    handled: seen.size,
    missing: expected.filter((v) => !seen.has(v)),
    repeated,
    repeatedFirstBy: new Map(repeated.map((v) => [v, firstBy.get(v)!.m])),
    outOfOrder,
  };
}

/** One line for the log: counts and the first few of each finding. */
export function describeVerdict(v: GroupVerdict): string {
  const few = (xs: readonly unknown[]) => (xs.length ? ` (e.g. ${JSON.stringify(xs.slice(0, 3))})` : "");
  return `handled=${v.handled} missing=${v.missing.length}${few(v.missing)} repeated=${v.repeated.length}${few(v.repeated)} outOfOrder=${v.outOfOrder.length}${few(v.outOfOrder)}`;
}

/** Two members handling one partition at once: `first` handled it, then `second`, then `first` again, then `second` again. */
export interface ConcurrentHandling {
  partition: number;
  first: string;
  second: string;
  /** Stream sequences: the second member's last before and first after the first member's return, and that return's. */
  secondBefore: number;
  firstReturn: [number, number];
  secondAfter: number;
  /** From the end of the first member's first run to the start of the second member's second run, ms. */
  spanMs: number;
}

/** Two handovers back and forth faster than this are two owners at once: each claim waits for a release or a lease. */
export const QUICKEST_ROUND_TRIP_MS = 1000;

/**
 * Finds partitions handled by two members at once, from the effects in the
 * order they were appended. Per partition, runs of handlings by one member
 * X, Y, X, Y are two owners at once when either
 * - Y's second run does not start where X's return left off: a claim reads
 *   from the last stored position, so at most one past X's last event;
 *   going on past it, Y never lost the partition while X handled it (a
 *   member frozen or cut off that woke up and went on with what it held);
 * - or the four runs took less than {@link QUICKEST_ROUND_TRIP_MS}: two
 *   members handling the same events side by side alternate every few
 *   milliseconds, and no pair of handovers is that fast.
 * One move back (X, Y, X) is a legitimate handover and its return.
 */
export function concurrentHandlings(effects: readonly Effect[]): ConcurrentHandling[] {
  const runs = new Map<number, { m: string; first: Effect; last: Effect }[]>();
  for (const e of effects) {
    const list = runs.get(e.p) ?? [];
    runs.set(e.p, list);
    const top = list.at(-1);
    if (top?.m === e.m) top.last = e;
    else list.push({ m: e.m, first: e, last: e });
  }
  const found: ConcurrentHandling[] = [];
  for (const [partition, list] of runs) {
    for (let i = 0; i + 3 < list.length; i++) {
      const [a, b, c, d] = [list[i]!, list[i + 1]!, list[i + 2]!, list[i + 3]!];
      if (a.m !== c.m || b.m !== d.m) continue;
      const spanMs = d.first.at - a.last.at;
      if (d.first.s <= c.last.s + 1 && spanMs >= QUICKEST_ROUND_TRIP_MS) continue;
      found.push({ partition, first: a.m, second: b.m, secondBefore: b.last.s, firstReturn: [c.first.s, c.last.s], secondAfter: d.first.s, spanMs });
    }
  }
  return found;
}
