import type { SchemaIndex } from "./model.js";
import { pairElements, rulesOf, swapPairs, type Pairs, type RuleHit, type Scope } from "./rules.js";
import type { RuleCategory } from "./types.js";

/** Which way the rules run: Buf's way (old -> new) or swapped (new -> old). */
export type Direction = "old-to-new" | "new-to-old";

export interface RunOptions {
  category: RuleCategory;
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
