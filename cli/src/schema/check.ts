import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import {
  SchemaValidationError,
  SUBJECT_MISSING_RULE,
  checkCompatibility,
  checkModule,
  subjectSchemas,
  type CompatibilityMode,
  type CompatibilityRequest,
  type CompatibilityResult,
  type ModuleCheckRequest,
  type ModuleCheckResult,
  type RuleCategory,
  type SchemaVersion,
  type SubjectSchemas,
  type Violation,
} from "@chronicle/registry/compat";
import { UsageError } from "../framework/command.js";
import type { SchemaCheckConfig } from "./config.js";
import { locateElement } from "./locate.js";
import type { RegistryAccess } from "./registry-access.js";
import type { CheckReport, ReportedViolation, SchemaSide, SubjectReport } from "./types.js";

/** Which messages a check looks at. */
export interface SubjectSelection {
  /**
   * Every message of the module, annotated as an event or not
   * (`--all-messages`). Against a git ref or an image this is a whole-module
   * check, as `buf breaking` makes: enums, extensions, files and services too.
   */
  allMessages: boolean;
}

/** The subjects of a side: its events, or every message of its own files. */
function subjectsOf(side: SchemaSide, selection: SubjectSelection): readonly string[] {
  return selection.allMessages ? side.messages : side.events;
}

function declares(side: SchemaSide, subject: string): boolean {
  return side.registry.getMessage(subject) !== undefined;
}

/** Runs `fn`, turning a malformed schema into a usage error that says where it came from. */
function asUsageError<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SchemaValidationError) throw new UsageError(`${where}: ${err.message}`);
    throw err;
  }
}

/** The schema of each subject of a side, and its id; a malformed schema is a usage error naming the side. */
interface SideSchemas {
  schemaOf(subject: string): FileDescriptorSet;
  idOf(subject: string): string;
}

/** The schemas and ids of a side's subjects, each computed once per declaring file. */
function sideSchemas(side: SchemaSide): SideSchemas {
  const schemas: SubjectSchemas = subjectSchemas(side.image);
  return {
    schemaOf: (subject) => asUsageError(side.label, () => schemas.schemaOf(subject)),
    idOf: (subject) => asUsageError(side.label, () => schemas.idOf(subject)),
  };
}

function runEngine(req: CompatibilityRequest): CompatibilityResult {
  return asUsageError(`cannot compare ${req.subject}`, () => checkCompatibility(req));
}

function runModuleEngine(req: ModuleCheckRequest): ModuleCheckResult {
  return asUsageError("cannot compare the modules", () => checkModule(req));
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

/** The report of a subject the working tree no longer declares: a violation for an event (its stream holds its history), unless the mode is NONE. */
function deletedReport(subject: string, earlier: SchemaSide, config: SchemaCheckConfig, isEvent: boolean): SubjectReport {
  const violations = config.mode === "NONE" || !isEvent ? [] : [deletedViolation(subject, earlier.label, earlier.label)];
  for (const v of violations) {
    const loc = locateElement(earlier, subject);
    if (loc) v.location = loc;
  }
  return { subject, mode: config.mode, rules: config.rules, status: "deleted", violations };
}

/**
 * Checks the working tree against an earlier side (a git ref or an image),
 * under one mode and rule category, with that side as the single earlier
 * version. A subject only on the earlier side is reported `deleted` (with a
 * violation when it was an event, unless the mode is NONE); one only in the
 * working tree is `new`.
 *
 * Events are checked one subject at a time, as the registry checks them
 * (each event and what it reaches). With `--all-messages` the whole module
 * is checked once, as `buf breaking` checks it, see {@link checkModuleAgainstSide}.
 */
export function checkAgainstSide(current: SchemaSide, earlier: SchemaSide, config: SchemaCheckConfig, selection: SubjectSelection): CheckReport {
  if (selection.allMessages) return checkModuleAgainstSide(current, earlier, config);
  const subjects = [...new Set([...current.events, ...earlier.events])].sort();
  const currentSchemas = sideSchemas(current);
  const earlierSchemas = sideSchemas(earlier);
  const against = earlier.label;
  const reports: SubjectReport[] = [];
  for (const subject of subjects) {
    const base = { subject, mode: config.mode, rules: config.rules };
    if (!declares(earlier, subject)) {
      reports.push({ ...base, status: "new", violations: [], id: currentSchemas.idOf(subject) });
    } else if (!declares(current, subject)) {
      reports.push(deletedReport(subject, earlier, config, true));
    } else {
      const id = currentSchemas.idOf(subject);
      if (id === earlierSchemas.idOf(subject)) {
        reports.push({ ...base, status: "unchanged", violations: [], id });
        continue;
      }
      const history: SchemaVersion[] = [{ version: 1, schema: earlierSchemas.schemaOf(subject) }];
      const result = runEngine({ subject, next: currentSchemas.schemaOf(subject), history, mode: config.mode, category: config.rules });
      const violations = reportViolations(result.violations, current, earlier, () => against);
      reports.push({ ...base, status: violations.length ? "incompatible" : "compatible", violations, id });
    }
  }
  return { against, compatible: reports.every((r) => r.violations.length === 0), subjects: reports };
}

/**
 * The whole-module check of `--all-messages` against a git ref or an image:
 * every message, enum, extension, file and service of the module's own files
 * is compared once (under BACKWARD, exactly what `buf breaking` reports for
 * the category), and each violation is listed under every message it
 * affects, or in `moduleViolations` when it affects none (an RPC, an enum no
 * message uses). A deleted message is a violation only when it was an event;
 * Buf's WIRE and WIRE_JSON rules allow deleting a plain message.
 */
export function checkModuleAgainstSide(current: SchemaSide, earlier: SchemaSide, config: SchemaCheckConfig): CheckReport {
  const against = earlier.label;
  const subjects = [...new Set([...current.messages, ...earlier.messages])].sort();
  const onBothSides = subjects.filter((s) => declares(current, s) && declares(earlier, s));
  const result = runModuleEngine({
    previous: earlier.image,
    current: current.image,
    files: new Set([...current.files, ...earlier.files]),
    subjects: onBothSides,
    mode: config.mode,
    category: config.rules,
  });
  const bySubject = new Map<string, ReportedViolation[]>();
  const moduleViolations: ReportedViolation[] = [];
  result.violations.forEach((v) => {
    const [reported] = reportViolations([v], current, earlier, () => against);
    if (reported === undefined) return;
    if (v.subjects.length === 0) moduleViolations.push(reported);
    for (const s of v.subjects) {
      const list = bySubject.get(s);
      if (list === undefined) bySubject.set(s, [reported]);
      else list.push(reported);
    }
  });
  const currentSchemas = sideSchemas(current);
  const earlierSchemas = sideSchemas(earlier);
  const earlierEvents = new Set(earlier.events);
  const reports = subjects.map((subject): SubjectReport => {
    const base = { subject, mode: config.mode, rules: config.rules };
    if (!declares(earlier, subject)) return { ...base, status: "new", violations: [], id: currentSchemas.idOf(subject) };
    if (!declares(current, subject)) return deletedReport(subject, earlier, config, earlierEvents.has(subject));
    const violations = bySubject.get(subject) ?? [];
    const id = currentSchemas.idOf(subject);
    const status = violations.length ? "incompatible" : id === earlierSchemas.idOf(subject) ? "unchanged" : "compatible";
    return { ...base, status, violations, id };
  });
  const compatible = moduleViolations.length === 0 && reports.every((r) => r.violations.length === 0);
  return { against, compatible, subjects: reports, ...(moduleViolations.length ? { moduleViolations } : {}) };
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
  const own = new Set(subjectsOf(current, selection));
  const ofModule = [...registered].filter((s) => !own.has(s) && current.packages.has(packageOf(s)));
  const subjects = [...new Set([...own, ...ofModule])].sort();
  const schemas = sideSchemas(current);
  const reports: SubjectReport[] = [];
  for (const subject of subjects) {
    if (!declares(current, subject)) reports.push(await registryDeletedReport(subject, registry, overrides));
    else if (!registered.has(subject)) reports.push(await registryNewReport(subject, schemas.schemaOf(subject), schemas.idOf(subject), registry, overrides));
    else if (overrides.mode === undefined && overrides.rules === undefined) reports.push(await registryDryRunReport(subject, current, schemas, registry));
    else reports.push(await localHistoryReport(subject, current, schemas, registry, overrides));
  }
  return { against: `registry ${registry.url}`, compatible: reports.every((r) => r.violations.length === 0), subjects: reports };
}

/** `registry v3`, or `registry` when the version is unknown. */
function registryLabel(version: number | undefined): string {
  return version ? `registry v${version}` : "registry";
}

async function registryDeletedReport(subject: string, registry: RegistryAccess, overrides: RegistryOverrides): Promise<SubjectReport> {
  const cfg = await registry.getConfig(subject);
  const versions = await registry.listVersions(subject);
  const last = versions[versions.length - 1];
  const mode = overrides.mode ?? cfg.mode;
  const violations = mode === "NONE" ? [] : [deletedViolation(subject, `the registry (latest version ${last ?? "?"})`, registryLabel(last))];
  return { subject, status: "deleted", mode, rules: overrides.rules ?? cfg.category, violations, ...(last ? { version: last } : {}) };
}

async function registryNewReport(
  subject: string,
  schema: FileDescriptorSet,
  id: string,
  registry: RegistryAccess,
  overrides: RegistryOverrides,
): Promise<SubjectReport> {
  const cfg = await registry.checkCompatibility(subject, schema);
  return { subject, status: "new", mode: overrides.mode ?? cfg.mode, rules: overrides.rules ?? cfg.category, violations: [], id };
}

/** The registry's own dry-run check, under the subject's settings. */
async function registryDryRunReport(subject: string, current: SchemaSide, schemas: SideSchemas, registry: RegistryAccess): Promise<SubjectReport> {
  const r = await registry.checkCompatibility(subject, schemas.schemaOf(subject));
  const violations = reportViolations(r.violations, current, undefined, (v) => registryLabel(v.againstVersion));
  const status = r.existingVersion > 0 ? "unchanged" : violations.length ? "incompatible" : "compatible";
  return {
    subject,
    status,
    mode: r.mode,
    rules: r.category,
    violations,
    id: r.id || schemas.idOf(subject),
    ...(r.existingVersion ? { version: r.existingVersion } : {}),
  };
}

/** The subject's history read from the registry and checked here, under `--mode`/`--rules`. */
async function localHistoryReport(
  subject: string,
  current: SchemaSide,
  schemas: SideSchemas,
  registry: RegistryAccess,
  overrides: RegistryOverrides,
): Promise<SubjectReport> {
  const cfg = await registry.getConfig(subject);
  const mode = overrides.mode ?? cfg.mode;
  const rules = overrides.rules ?? cfg.category;
  const id = schemas.idOf(subject);
  const history = await registry.history(subject);
  const existing = history.find((h) => h.id === id);
  if (existing) return { subject, status: "unchanged", mode, rules, violations: [], id, version: existing.version };
  const versions: SchemaVersion[] = history.map((h) => ({ version: h.version, schema: fromBinary(FileDescriptorSetSchema, h.schema) }));
  const result = runEngine({ subject, next: schemas.schemaOf(subject), history: versions, mode, category: rules });
  const violations = reportViolations(result.violations, current, undefined, (v) => registryLabel(v.againstVersion));
  return { subject, status: violations.length ? "incompatible" : "compatible", mode, rules, violations, id };
}

function packageOf(fullName: string): string {
  const dot = fullName.lastIndexOf(".");
  return dot < 0 ? "" : fullName.slice(0, dot);
}
