import type { SchemaIndex } from "./model.js";
import { rulesOf } from "./rules/all-rules.js";
import { pairElements, swapPairs } from "./rules/pairs.js";
import type { Pairs, RuleHit, Scope } from "./rules/rule.js";
import type { RuleCategory, Violation } from "./types.js";

/** Which way the rules run: Buf's way (old -> new) or swapped (new -> old). */
export type Direction = "old-to-new" | "new-to-old";

/** What {@link runRules} runs: a category's rules, optionally within a subject's scope, in some directions. */
export interface RunOptions {
  category: RuleCategory;
  /** Only these messages and enums, and only subject-scoped rules; the whole schema when absent. */
  scope?: Scope;
  /** Run `both-ways` rules in these directions; `history` rules always run old -> new. */
  directions: readonly Direction[];
}

/** A rule hit with the direction it was found in. */
export interface DirectedHit extends RuleHit {
  direction: Direction;
}

/**
 * Run the rules of a category over two indexed schemas. `older` and `newer`
 * are the real ages; directions decide which plays Buf's "previous".
 */
export function runRules(older: SchemaIndex, newer: SchemaIndex, options: RunOptions): DirectedHit[] {
  const hits: DirectedHit[] = [];
  const forward = pairElements(older, newer, options.scope);
  let backward: Pairs | undefined;
  for (const rule of rulesOf(options.category)) {
    if (options.scope !== undefined && !rule.subjectScoped) continue;
    let directions: readonly Direction[] = rule.direction === "history" ? ["old-to-new"] : options.directions;
    // A symmetric rule run both ways would report each change twice.
    if (rule.symmetric === true && directions.length > 1) directions = ["old-to-new"];
    for (const direction of directions) {
      const swapped = direction === "new-to-old";
      rule.check({
        prev: swapped ? newer : older,
        cur: swapped ? older : newer,
        swapped,
        scope: options.scope,
        pairs: swapped ? (backward ??= swapPairs(forward)) : forward,
        emit: (hit) => hits.push({ ...hit, direction }),
      });
    }
  }
  return hits;
}

/**
 * The hits to report: a change that a rule found in both directions (the
 * same rule and element) is reported once, as found old -> new.
 */
export function distinctHits(hits: readonly DirectedHit[]): DirectedHit[] {
  const seen = new Set<string>();
  const out: DirectedHit[] = [];
  for (const h of hits) {
    const key = `${h.rule}\0${h.path}`;
    if (h.direction === "new-to-old" && seen.has(key)) continue;
    seen.add(key);
    out.push(h);
  }
  return out;
}

/** A hit as a violation, located in the newer schema: Buf's "current" side, unless the check ran swapped. */
export function toViolation(h: DirectedHit): Violation {
  const v: Violation = { rule: h.rule, message: h.message, path: h.path };
  const location = h.direction === "old-to-new" ? (h.location ?? h.againstLocation) : (h.againstLocation ?? h.location);
  if (location !== undefined) v.location = location;
  return v;
}
