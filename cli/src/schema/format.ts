import { isAbsolute, relative, sep } from "node:path";
import type { CheckReport, ReportLocation, ReportedViolation, SubjectReport } from "./types.js";

/** Output formats of the schema commands. */
export type OutputFormat = "text" | "json" | "github";

/** Every output format, for help and validation. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "json", "github"];

/** A file path as reports show it: relative to `base` with forward slashes when it lies on disk. */
function displayPath(file: string, base: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(base, file);
  // a file outside the base folder reads better absolute than as ../../..
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel.split(sep).join("/");
}

function where(loc: ReportLocation | undefined, base: string): string {
  return loc ? `${displayPath(loc.file, base)}:${loc.line}:${loc.column}` : "";
}

/** One violation as reported once, with the subjects it affects (none for a module-level one). */
export interface DistinctViolation {
  violation: ReportedViolation;
  subjects: string[];
}

function identity(v: ReportedViolation): string {
  return [v.rule, v.path, v.message, v.against, v.location?.file ?? "", v.location?.line ?? 0, v.location?.column ?? 0].join("\0");
}

/**
 * Every violation of the report once, with the subjects it affects: a change
 * in a message that many subjects share is one violation, not one per
 * subject. Ordered by file, line and column (violations without a location
 * last, in report order).
 */
export function distinctViolations(report: CheckReport): DistinctViolation[] {
  const byIdentity = new Map<string, DistinctViolation>();
  const add = (v: ReportedViolation, subject: string | undefined): void => {
    const key = identity(v);
    let entry = byIdentity.get(key);
    if (entry === undefined) {
      entry = { violation: v, subjects: [] };
      byIdentity.set(key, entry);
    }
    // subjects come one after another, so a subject listing the same violation twice adds it twice in a row
    if (subject !== undefined && entry.subjects.at(-1) !== subject) entry.subjects.push(subject);
  };
  for (const s of report.subjects) for (const v of s.violations) add(v, s.subject);
  for (const v of report.moduleViolations ?? []) add(v, undefined);
  const located = (d: DistinctViolation): number => (d.violation.location ? 0 : 1);
  return [...byIdentity.values()].sort(
    (a, b) =>
      located(a) - located(b) ||
      compare(a.violation.location?.file ?? "", b.violation.location?.file ?? "") ||
      (a.violation.location?.line ?? 0) - (b.violation.location?.line ?? 0) ||
      (a.violation.location?.column ?? 0) - (b.violation.location?.column ?? 0),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How many affected subjects a line names before it counts the rest. */
const NAMED_SUBJECTS = 5;

/** `(affects a.B, a.C; against git main)`, or `(against git main)` for a module-level violation. */
function context(d: DistinctViolation): string {
  const { subjects } = d;
  if (subjects.length === 0) return `(against ${d.violation.against})`;
  const named = subjects.slice(0, NAMED_SUBJECTS).join(", ");
  const more = subjects.length > NAMED_SUBJECTS ? ` and ${subjects.length - NAMED_SUBJECTS} more` : "";
  return `(affects ${named}${more}; against ${d.violation.against})`;
}

function violationLine(d: DistinctViolation, base: string): string {
  const v = d.violation;
  const at = where(v.location, base);
  return `${at || v.path}: ${v.rule}: ${v.message} ${context(d)}`;
}

function statusLine(s: SubjectReport): string {
  const settings = `${s.mode}, ${s.rules}`;
  switch (s.status) {
    case "new":
      return `  new           ${s.subject}`;
    case "unchanged":
      return `  unchanged     ${s.subject}${s.version ? ` (v${s.version})` : ""}`;
    case "compatible":
      return `  compatible    ${s.subject} (${settings})`;
    case "incompatible":
      return `  INCOMPATIBLE  ${s.subject} (${settings}): ${s.violations.length} violation${s.violations.length === 1 ? "" : "s"}`;
    case "deleted":
      return `  ${s.violations.length ? "DELETED     " : "deleted     "}  ${s.subject}${s.violations.length ? "" : ` (${settings})`}`;
  }
}

/** One summary line: how many subjects were checked and what came out. */
export function summaryLine(report: CheckReport, noun: string): string {
  const counts = new Map<string, number>();
  for (const s of report.subjects) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const parts = ["incompatible", "deleted", "compatible", "new", "unchanged"].filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k}`);
  const outside = report.moduleViolations?.length ?? 0;
  if (outside) parts.push(`${outside} violation${outside === 1 ? "" : "s"} outside any ${noun}`);
  const n = report.subjects.length;
  const verdict = report.compatible ? "compatible" : "INCOMPATIBLE";
  return `${verdict}: ${n} ${noun}${n === 1 ? "" : "s"} checked against ${report.against}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/**
 * Text for people: one `file:line:column: RULE: message (affects ...;
 * against ...)` line per violation (the form editors and compilers use),
 * once however many subjects it affects; one status line per subject; and a
 * summary.
 */
export function formatText(report: CheckReport, base: string, noun = "event"): string[] {
  const lines = distinctViolations(report).map((d) => violationLine(d, base));
  if (lines.length) lines.push("");
  for (const s of report.subjects) lines.push(statusLine(s));
  if (report.subjects.length === 0) lines.push(`  no ${noun}s found: annotate messages with (chronicle.v1.event), or pass --all-messages`);
  lines.push(summaryLine(report, noun));
  return lines;
}

function violationJson(v: ReportedViolation, base: string): Record<string, unknown> {
  return {
    rule: v.rule,
    message: v.message,
    path: v.path,
    ...(v.location ? { file: displayPath(v.location.file, base), line: v.location.line, column: v.location.column } : {}),
    against: v.against,
  };
}

/**
 * The report as one JSON document (paths relative to `base`): each
 * subject with its violations, and `violations`, every violation once with
 * the `subjects` it affects (empty for one outside any subject).
 */
export function formatJson(report: CheckReport, base: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      compatible: report.compatible,
      against: report.against,
      ...extra,
      subjects: report.subjects.map((s) => ({ ...s, violations: s.violations.map((v) => violationJson(v, base)) })),
      violations: distinctViolations(report).map((d) => ({ ...violationJson(d.violation, base), subjects: d.subjects })),
    },
    null,
    2,
  );
}

function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/**
 * GitHub Actions workflow commands: one `::error file=...,line=...,col=...,title=RULE::message`
 * per violation, once however many subjects it affects (paths relative to
 * `base`, the repository root), so the pull request shows each at its line;
 * then the plain summary.
 */
export function formatGithub(report: CheckReport, base: string, noun = "event"): string[] {
  const lines = distinctViolations(report).map((d) => {
    const v = d.violation;
    const props = [
      ...(v.location ? [`file=${escapeProperty(displayPath(v.location.file, base))}`, `line=${v.location.line}`, `col=${v.location.column}`] : []),
      `title=${escapeProperty(v.rule)}`,
    ];
    return `::error ${props.join(",")}::${escapeData(`${v.message} ${context(d)}`)}`;
  });
  lines.push(summaryLine(report, noun));
  return lines;
}
