import type { RuleCategory } from "../types.js";
import { deletionRules } from "./deletion-rules.js";
import { fieldRules } from "./field-rules.js";
import { moduleRules } from "./module-rules.js";
import type { Rule } from "./rule.js";
import { typeRules } from "./type-rules.js";

/**
 * Every rule the engine applies: Buf's rules in the WIRE and WIRE_JSON
 * categories (buf 1.75, `version: v1` configuration, which is what the
 * conformance oracle runs). A rule lists its categories, so a category is
 * added by tagging rules, without changing the engine.
 */
export const rules: readonly Rule[] = [...fieldRules, ...typeRules, ...deletionRules, ...moduleRules];

/** The rules of a category, in a stable order. */
export function rulesOf(category: RuleCategory): readonly Rule[] {
  if (category === "CONFLUENT")
    throw new Error("rule category CONFLUENT has no Buf rules: it judges a registry subject as Confluent's registry does (checkCompatibility)");
  return rules.filter((r) => r.categories.includes(category));
}
