import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { affectedSubjects } from "./affected-subjects.js";
import { modePlan } from "./check-compatibility.js";
import { sortViolations } from "./compare-images.js";
import { indexSchema } from "./model.js";
import { distinctHits, runRules, toViolation } from "./run-rules.js";
import type { CompatibilityMode, RuleCategory, Violation } from "./types.js";

/** Input of {@link checkModule}. */
export interface ModuleCheckRequest {
  /** The earlier version of the module (a git ref, a saved image). */
  previous: FileDescriptorSet;
  /** The proposed version. */
  current: FileDescriptorSet;
  /**
   * Files whose elements are checked: the module's own files, leaving out
   * imports (dependencies, well-known types) as `buf breaking` does. Every
   * file when absent.
   */
  files?: ReadonlySet<string>;
  /** Messages to say each violation affects (e.g. every message of the module); none when absent. */
  subjects?: readonly string[];
  mode: CompatibilityMode;
  category: RuleCategory;
}

/** A violation of a whole-module check, with the subjects it affects. */
export interface ModuleViolation extends Violation {
  /**
   * The requested subjects whose scope holds the element, sorted: for a
   * field, value or reservation, the subjects that reach its message or
   * enum; for an extension, those that reach the message it extends; for a
   * file's package, the subjects the file declares; for an RPC, none.
   */
  subjects: string[];
}

/** Result of {@link checkModule}. */
export interface ModuleCheckResult {
  compatible: boolean;
  violations: ModuleViolation[];
}

/**
 * Check a whole module against its earlier version, as `buf breaking` does:
 * every message, enum, extension, file and service of the module's files,
 * not only what one subject reaches. The mode decides the directions as in
 * {@link checkCompatibility}: BACKWARD gives exactly Buf's answer ("may the
 * current module replace the previous one"); FORWARD and FULL also run the
 * both-ways rules new -> old; NONE accepts anything. There is one earlier
 * version, so transitive modes equal their plain forms.
 *
 * Each violation is reported once, located in the newer module, with the
 * subjects it affects. Work grows with the size of the module, not with the
 * number of subjects times their size.
 *
 * @throws SchemaValidationError when a set is malformed (e.g. a file listed twice).
 */
export function checkModule(req: ModuleCheckRequest): ModuleCheckResult {
  if (req.mode === "NONE") return { compatible: true, violations: [] };
  const previous = indexSchema(req.previous);
  const current = indexSchema(req.current);
  const hits = distinctHits(runRules(previous, current, { category: req.category, directions: modePlan(req.mode).directions }));
  const affected = affectedSubjects([previous, current], req.subjects ?? []);
  const violations = hits
    .filter((h) => req.files === undefined || req.files.has(h.file))
    .map((h): ModuleViolation => ({ ...toViolation(h), subjects: affected(h.owner) }));
  return { compatible: violations.length === 0, violations: sortViolations(violations) };
}
