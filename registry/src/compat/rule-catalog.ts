import { rules } from "./rules/all-rules.js";
import type { RuleDirection } from "./rules/rule.js";
import type { RuleCategory } from "./types.js";

/** Public description of one rule the engine implements. */
export interface RuleInfo {
  /** Buf's rule ID. */
  id: string;
  categories: readonly RuleCategory[];
  /** `both-ways`: checked old->new (BACKWARD) and new->old (FORWARD); `history`: old->new in every mode. */
  direction: RuleDirection;
  /** False for file- and RPC-level rules, which only {@link compareImages} applies. */
  subjectScoped: boolean;
  purpose: string;
}

/** The rules of the WIRE and WIRE_JSON categories, as the engine applies them. */
export function ruleCatalog(): RuleInfo[] {
  return rules.map(({ id, categories, direction, subjectScoped, purpose }) => ({ id, categories, direction, subjectScoped, purpose }));
}
