import { sortViolations } from "./compare-images.js";
import { checkConfluentCompatibility } from "./confluent/check-confluent.js";
import { indexSchema, type SchemaIndex } from "./model.js";
import type { Scope } from "./rules/rule.js";
import { distinctHits, runRules, toViolation, type Direction } from "./run-rules.js";
import type { CompatibilityMode, CompatibilityRequest, CompatibilityResult, SchemaVersion, Violation } from "./types.js";

/** The registry's default mode: a replayable log is read by old and new code alike. */
export const DEFAULT_COMPATIBILITY_MODE: CompatibilityMode = "FULL_TRANSITIVE";

/** Rule ID reported when the subject's message is missing from the proposed schema (Buf's name for a deleted message). */
export const SUBJECT_MISSING_RULE = "MESSAGE_NO_DELETE";

/**
 * Which versions a mode compares with, and in which directions the
 * "both-ways" rules run. `history` rules (deletions, reservations) always run
 * old -> new, in every mode but NONE.
 */
export function modePlan(mode: CompatibilityMode): { transitive: boolean; directions: Direction[] } {
  switch (mode) {
    case "NONE":
      return { transitive: false, directions: [] };
    case "BACKWARD":
    case "BACKWARD_TRANSITIVE":
      return { transitive: mode === "BACKWARD_TRANSITIVE", directions: ["old-to-new"] };
    case "FORWARD":
    case "FORWARD_TRANSITIVE":
      return { transitive: mode === "FORWARD_TRANSITIVE", directions: ["new-to-old"] };
    case "FULL":
    case "FULL_TRANSITIVE":
      return { transitive: mode === "FULL_TRANSITIVE", directions: ["old-to-new", "new-to-old"] };
  }
}

/**
 * Check a proposed schema of one subject against the subject's history.
 *
 * Scope: the subject message and every message and enum it reaches
 * (field types, map values, nested types), in either version; other events
 * that share its files are not looked at. Transitive modes compare with
 * every earlier version, the others with the latest only. See
 * docs/schema-evolution.md for which rules run in which direction: adding a
 * field passes in every mode; type, cardinality, name and oneof changes fail
 * in both directions; deletions without reservation fail in every mode.
 *
 * Each violation carries `againstVersion` and, when the schemas have source
 * info, a location in the proposed schema (or in the older one when the
 * element only exists there).
 *
 * @throws SchemaValidationError when `next` (or a stored version) is malformed.
 */
export function checkCompatibility(req: CompatibilityRequest): CompatibilityResult {
  const plan = modePlan(req.mode);
  if (req.category === "CONFLUENT") return checkConfluentCompatibility(req, plan);
  if (req.mode === "NONE" || req.history.length === 0) return { compatible: true, violations: [] };
  const next = indexSchema(req.next);
  const against: readonly SchemaVersion[] = plan.transitive ? req.history : req.history.slice(-1);
  const violations: Violation[] = [];
  for (const version of against) {
    const old = indexSchema(version.schema);
    // a subject named for its message always has it; a subject named otherwise (Confluent's `orders-value`)
    // is about its file's first message, and a proposed schema whose first message is another one is refused
    if (!old.messages.has(req.subject)) {
      violations.push({
        rule: SUBJECT_MISSING_RULE,
        message: `Message "${req.subject}" is not in version ${version.version}: the proposed schema is about another message than the subject's earlier versions.`,
        path: req.subject,
        againstVersion: version.version,
      });
      continue;
    }
    if (!next.messages.has(req.subject)) {
      violations.push({
        rule: SUBJECT_MISSING_RULE,
        message: `Message "${req.subject}" is missing from the proposed schema; it is the event this subject is about.`,
        path: req.subject,
        againstVersion: version.version,
      });
      continue;
    }
    const scope = subjectScope(req.subject, old, next);
    for (const hit of distinctHits(runRules(old, next, { category: req.category, scope, directions: plan.directions }))) {
      violations.push({ ...toViolation(hit), againstVersion: version.version });
    }
  }
  return { compatible: violations.length === 0, violations: sortViolations(violations) };
}

/** The subject and everything it reaches, in the older and the newer schema. */
export function subjectScope(subject: string, ...schemas: SchemaIndex[]): Scope {
  const messages = new Set<string>();
  const enums = new Set<string>();
  for (const index of schemas) {
    const stack = [subject];
    const visited = new Set<string>();
    for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
      if (visited.has(name)) continue;
      visited.add(name);
      const message = index.messages.get(name);
      if (message === undefined) {
        if (index.enums.has(name)) enums.add(name);
        continue;
      }
      messages.add(name);
      for (const f of message.fields) if (f.typeName !== "") stack.push(f.typeName);
      for (const n of message.proto.nestedType) stack.push(`${name}.${n.name}`);
      for (const e of message.proto.enumType) enums.add(`${name}.${e.name}`);
    }
  }
  return { messages, enums };
}
