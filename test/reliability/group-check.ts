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
  /** The member that first handled each repeated event. */
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
  const firstBy = new Map<string, string>();
  const highest = new Map<string, number>();
  const outOfOrder: GroupVerdict["outOfOrder"] = [];
  for (const e of effects) {
    const n = seen.get(e.v) ?? 0;
    seen.set(e.v, n + 1);
    if (n > 0) continue;
    firstBy.set(e.v, e.m);
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
    repeatedFirstBy: new Map(repeated.map((v) => [v, firstBy.get(v)!])),
    outOfOrder,
  };
}

/** One line for the log: counts and the first few of each finding. */
export function describeVerdict(v: GroupVerdict): string {
  const few = (xs: readonly unknown[]) => (xs.length ? ` (e.g. ${JSON.stringify(xs.slice(0, 3))})` : "");
  return `handled=${v.handled} missing=${v.missing.length}${few(v.missing)} repeated=${v.repeated.length}${few(v.repeated)} outOfOrder=${v.outOfOrder.length}${few(v.outOfOrder)}`;
}
