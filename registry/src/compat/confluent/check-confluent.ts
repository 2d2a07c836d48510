import type { FileDescriptorProto, FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { sortViolations } from "../compare-images.js";
import type { Direction } from "../run-rules.js";
import type { CompatibilityRequest, CompatibilityResult, Violation } from "../types.js";
import { ACCEPTED_DIFFERENCES, confluentDifferences } from "./confluent-diff.js";

/** The file of a set that declares `message` (a top-level or nested message), or else the set's own file (the one no other file imports). */
function subjectFile(set: FileDescriptorSet, message: string): FileDescriptorProto | undefined {
  const declares = (f: FileDescriptorProto) => {
    const prefix = f.package ? `${f.package}.` : "";
    if (!message.startsWith(prefix)) return false;
    const [top] = message.slice(prefix.length).split(".");
    return f.messageType.some((m) => m.name === top);
  };
  const imported = new Set(set.file.flatMap((f) => f.dependency));
  return set.file.find(declares) ?? set.file.findLast((f) => !imported.has(f.name));
}

/**
 * Judges a proposed schema as Confluent's registry judges Protobuf schemas
 * (rule category CONFLUENT): the subject's file in each version is compared
 * as a whole, and only the differences Confluent refuses are violations,
 * named by Confluent's difference types. BACKWARD compares each earlier
 * version to the proposed one, FORWARD the proposed one to each earlier
 * one, FULL both; transitive modes compare with every earlier version.
 * See docs/schema-evolution.md for where this differs from WIRE and
 * WIRE_JSON.
 */
export function checkConfluentCompatibility(req: CompatibilityRequest, plan: { transitive: boolean; directions: readonly Direction[] }): CompatibilityResult {
  if (req.mode === "NONE" || req.history.length === 0) return { compatible: true, violations: [] };
  const against = plan.transitive ? req.history : req.history.slice(-1);
  const nextFile = subjectFile(req.next, req.subject);
  const violations: Violation[] = [];
  for (const version of against) {
    const oldFile = subjectFile(version.schema, req.subject);
    if (!oldFile || !nextFile) continue;
    for (const direction of plan.directions) {
      const found =
        direction === "old-to-new"
          ? confluentDifferences(version.schema, oldFile, req.next, nextFile)
          : confluentDifferences(req.next, nextFile, version.schema, oldFile);
      for (const d of found) {
        if (ACCEPTED_DIFFERENCES.has(d.kind)) continue;
        const reading = direction === "old-to-new" ? "read with the proposed schema" : "read with this version";
        violations.push({
          rule: d.kind,
          message: `${d.detail} (comparing version ${version.version} to the proposed schema, as ${direction === "old-to-new" ? "BACKWARD" : "FORWARD"}: data ${direction === "old-to-new" ? "of this version" : "of the proposed schema"} ${reading})`,
          path: d.path,
          againstVersion: version.version,
        });
      }
    }
  }
  return { compatible: violations.length === 0, violations: sortViolations(violations) };
}
