import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { indexSchema } from "./model.js";
import { runRules } from "./run-rules.js";
import type { RuleCategory, Violation } from "./types.js";

/** Options of {@link compareImages}. */
export interface CompareImagesOptions {
  /** Rule category, WIRE_JSON unless told. */
  category?: RuleCategory;
}

/**
 * Compare two whole descriptor sets the way `buf breaking current --against
 * previous` does with `breaking.use: [<category>]`: every file, message,
 * enum, extension and service, in Buf's direction only ("may `current`
 * replace `previous`"). Violations carry Buf's rule ID, the element path and,
 * when the sets have source info, the location Buf reports (in `current`, or
 * for deletions at the enclosing element in `current`).
 *
 * This is the conformance surface; the registry uses
 * {@link checkCompatibility}, which scopes to one subject and applies modes.
 *
 * @throws SchemaValidationError when a set is malformed (e.g. a file listed twice).
 */
export function compareImages(previous: FileDescriptorSet, current: FileDescriptorSet, options: CompareImagesOptions = {}): Violation[] {
  const hits = runRules(indexSchema(previous), indexSchema(current), {
    category: options.category ?? "WIRE_JSON",
    directions: ["old-to-new"],
  });
  return sortViolations(
    hits.map((h) => {
      const v: Violation = { rule: h.rule, message: h.message, path: h.path };
      if (h.location !== undefined) v.location = h.location;
      return v;
    }),
  );
}

/** Deterministic order: file, line, column, rule, path. */
export function sortViolations<V extends Violation>(violations: V[]): V[] {
  return violations.sort(
    (a, b) =>
      cmp(a.location?.file ?? "", b.location?.file ?? "") ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      (a.location?.column ?? 0) - (b.location?.column ?? 0) ||
      cmp(a.rule, b.rule) ||
      cmp(a.path, b.path) ||
      (a.againstVersion ?? 0) - (b.againstVersion ?? 0),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
