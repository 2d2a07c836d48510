import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import {
  SchemaValidationError,
  SUBJECT_MISSING_RULE,
  checkCompatibility,
  extractSubjectSchema,
  schemaId,
  type CompatibilityMode,
  type RuleCategory,
  type SchemaVersion,
  type Violation,
} from "@chronicle/registry";
import { UsageError } from "../framework/command.js";
import type { SchemaCheckConfig } from "./config.js";
import { locateElement } from "./locate.js";
import type { RegistryAccess } from "./registry-access.js";
import type { CheckReport, ReportedViolation, SchemaSide, SubjectReport } from "./types.js";

/** Which messages a check looks at. */
export interface SubjectSelection {
  /** Every message of the module, annotated as an event or not (`--all-messages`). */
  allMessages: boolean;
}

/** The subjects of a side: its events, or every message of its own files. */
function subjectsOf(side: SchemaSide, selection: SubjectSelection): readonly string[] {
  return selection.allMessages ? side.messages : side.events;
}

function declares(side: SchemaSide, subject: string): boolean {
  return side.registry.getMessage(subject) !== undefined;
}

/** The schema of one subject: the file declaring it and its imports. */
function subjectSchema(side: SchemaSide, subject: string): FileDescriptorSet {
  try {
    return extractSubjectSchema(side.image, subject);
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new UsageError(`${side.label}: ${err.message}`);
    throw err;
  }
}

function runEngine(...args: Parameters<typeof checkCompatibility>): ReturnType<typeof checkCompatibility> {
  try {
    return checkCompatibility(...args);
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new UsageError(`cannot compare ${args[0].subject}: ${err.message}`);
    throw err;
  }
}

/**
 * Turns engine violations into reported ones: each location mapped to the
 * project's file on disk, and, where the engine had none (a schema without
 * source info, as the registry returns), the element looked up in the
 * working tree, else on the earlier side.
 */
export function reportViolations(
  violations: readonly Violation[],
  current: SchemaSide,
  earlier: SchemaSide | undefined,
  against: (v: Violation) => string,
): ReportedViolation[] {
  return violations.map((v) => {
    const out: ReportedViolation = { rule: v.rule, message: v.message, path: v.path, against: against(v) };
    if (v.location) {
      const file = current.localPath(v.location.file) ?? earlier?.localPath(v.location.file) ?? v.location.file;
      out.location = { file, line: v.location.line, column: v.location.column };
    } else {
      const found = locateElement(current, v.path) ?? (earlier ? locateElement(earlier, v.path) : undefined);
      if (found) out.location = found;
    }
    return out;
  });
}

function deletedViolation(subject: string, where: string, against: string): ReportedViolation {
  return {
    rule: SUBJECT_MISSING_RULE,
    message: `Event "${subject}" is declared in ${where} but no longer in the working tree; its stream still holds events of it. Keep the message (dropping the event option if it is retired), or retire the subject on purpose.`,
    path: subject,
    against,
  };
}

/**
 * Checks every subject of the working tree against an earlier side (a git
 * ref or an image) with the compatibility engine, under one mode and rule
 * category, with that side as the single earlier version. A subject only on
 * the earlier side is reported `deleted`, with a violation unless the mode is
 * NONE; one only in the working tree is `new`.
 */
export function checkAgainstSide(current: SchemaSide, earlier: SchemaSide, config: SchemaCheckConfig, selection: SubjectSelection): CheckReport {
  const subjects = [...new Set([...subjectsOf(current, selection), ...subjectsOf(earlier, selection)])].sort();
  const against = earlier.label;
  const reports: SubjectReport[] = [];
  for (const subject of subjects) {
    const base = { subject, mode: config.mode, rules: config.rules };
    if (!declares(earlier, subject)) {
      reports.push({ ...base, status: "new", violations: [], id: schemaId(subjectSchema(current, subject)) });
      continue;
    }
    const before = subjectSchema(earlier, subject);
    if (!declares(current, subject)) {
      const violations = config.mode === "NONE" ? [] : [deletedViolation(subject, against, against)];
      for (const v of violations) {
        const loc = locateElement(earlier, subject);
        if (loc) v.location = loc;
      }
      reports.push({ ...base, status: "deleted", violations });
      continue;
    }
    const next = subjectSchema(current, subject);
    const id = schemaId(next);
    if (id === schemaId(before)) {
      reports.push({ ...base, status: "unchanged", violations: [], id });
      continue;
    }
    const history: SchemaVersion[] = [{ version: 1, schema: before }];
    const result = runEngine({ subject, next, history, mode: config.mode, category: config.rules });
    const violations = reportViolations(result.violations, current, earlier, () => against);
    reports.push({ ...base, status: violations.length ? "incompatible" : "compatible", violations, id });
  }
  return { against, compatible: reports.every((r) => r.violations.length === 0), subjects: reports };
}

/** Overrides of the registry's per-subject settings (`--mode`, `--rules`). */
export interface RegistryOverrides {
  mode?: CompatibilityMode;
  rules?: RuleCategory;
}

/**
 * Checks every subject of the working tree against the registry. Without
 * overrides it asks the registry's dry-run check (each subject under its own
 * mode and category); with `--mode`/`--rules` it reads the subject's
 * history and runs the engine locally. Registered subjects of the module's
 * packages that the working tree no longer declares are reported `deleted`.
 */
export async function checkAgainstRegistry(
  current: SchemaSide,
  registry: RegistryAccess,
  overrides: RegistryOverrides,
  selection: SubjectSelection,
): Promise<CheckReport> {
  const registered = new Set(await registry.listSubjects());
  const own = subjectsOf(current, selection);
  const gone = [...registered].filter((s) => !own.includes(s) && current.packages.has(packageOf(s)) && !declares(current, s));
  const stillDeclared = [...registered].filter((s) => !own.includes(s) && current.packages.has(packageOf(s)) && declares(current, s));
  const subjects = [...new Set([...own, ...stillDeclared, ...gone])].sort();
  const reports: SubjectReport[] = [];
  const label = (n: number | undefined) => (n ? `registry v${n}` : "registry");
  for (const subject of subjects) {
    if (!declares(current, subject)) {
      const cfg = await registry.getConfig(subject);
      const versions = await registry.listVersions(subject);
      const last = versions[versions.length - 1];
      const mode = overrides.mode ?? cfg.mode;
      const violations = mode === "NONE" ? [] : [deletedViolation(subject, `the registry (latest version ${last ?? "?"})`, label(last))];
      reports.push({ subject, status: "deleted", mode, rules: overrides.rules ?? cfg.category, violations, ...(last ? { version: last } : {}) });
      continue;
    }
    const schema = subjectSchema(current, subject);
    const id = schemaId(schema);
    if (!registered.has(subject)) {
      const cfg = await registry.checkCompatibility(subject, schema);
      reports.push({ subject, status: "new", mode: overrides.mode ?? cfg.mode, rules: overrides.rules ?? cfg.category, violations: [], id });
      continue;
    }
    if (overrides.mode === undefined && overrides.rules === undefined) {
      const r = await registry.checkCompatibility(subject, schema);
      const violations = reportViolations(r.violations, current, undefined, (v) => label(v.againstVersion));
      const status = r.existingVersion > 0 ? "unchanged" : violations.length ? "incompatible" : "compatible";
      reports.push({
        subject,
        status,
        mode: r.mode,
        rules: r.category,
        violations,
        id: r.id || id,
        ...(r.existingVersion ? { version: r.existingVersion } : {}),
      });
      continue;
    }
    const cfg = await registry.getConfig(subject);
    const mode = overrides.mode ?? cfg.mode;
    const rules = overrides.rules ?? cfg.category;
    const history = await registry.history(subject);
    const existing = history.find((h) => h.id === id);
    if (existing) {
      reports.push({ subject, status: "unchanged", mode, rules, violations: [], id, version: existing.version });
      continue;
    }
    const versions: SchemaVersion[] = history.map((h) => ({ version: h.version, schema: fromBinary(FileDescriptorSetSchema, h.schema) }));
    const result = runEngine({ subject, next: schema, history: versions, mode, category: rules });
    const violations = reportViolations(result.violations, current, undefined, (v) => label(v.againstVersion));
    reports.push({ subject, status: violations.length ? "incompatible" : "compatible", mode, rules, violations, id });
  }
  return { against: `registry ${registry.url}`, compatible: reports.every((r) => r.violations.length === 0), subjects: reports };
}

function packageOf(fullName: string): string {
  const dot = fullName.lastIndexOf(".");
  return dot < 0 ? "" : fullName.slice(0, dot);
}
