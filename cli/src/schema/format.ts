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

function violationLine(v: ReportedViolation, subject: string, base: string): string {
  const at = where(v.location, base);
  return `${at ? `${at}: ` : `${subject}: `}${v.rule}: ${v.message} (against ${v.against})`;
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
  const n = report.subjects.length;
  const verdict = report.compatible ? "compatible" : "INCOMPATIBLE";
  return `${verdict}: ${n} ${noun}${n === 1 ? "" : "s"} checked against ${report.against}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/**
 * Text for people: one `file:line:column: RULE: message (against ...)` line
 * per violation (the form editors and compilers use), one status line per
 * subject, and a summary.
 */
export function formatText(report: CheckReport, base: string, noun = "event"): string[] {
  const lines: string[] = [];
  for (const s of report.subjects) for (const v of s.violations) lines.push(violationLine(v, s.subject, base));
  if (lines.length) lines.push("");
  for (const s of report.subjects) lines.push(statusLine(s));
  if (report.subjects.length === 0) lines.push(`  no ${noun}s found: annotate messages with (chronicle.v1.event), or pass --all-messages`);
  lines.push(summaryLine(report, noun));
  return lines;
}

/** The report as one JSON document (paths relative to `base`). */
export function formatJson(report: CheckReport, base: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      compatible: report.compatible,
      against: report.against,
      ...extra,
      subjects: report.subjects.map((s) => ({
        ...s,
        violations: s.violations.map((v) => ({
          rule: v.rule,
          message: v.message,
          path: v.path,
          ...(v.location ? { file: displayPath(v.location.file, base), line: v.location.line, column: v.location.column } : {}),
          against: v.against,
        })),
      })),
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
 * per violation (paths relative to `base`, the repository root), so the
 * pull request shows each at its line; then the plain summary.
 */
export function formatGithub(report: CheckReport, base: string, noun = "event"): string[] {
  const lines: string[] = [];
  for (const s of report.subjects) {
    for (const v of s.violations) {
      const props = [
        ...(v.location ? [`file=${escapeProperty(displayPath(v.location.file, base))}`, `line=${v.location.line}`, `col=${v.location.column}`] : []),
        `title=${escapeProperty(v.rule)}`,
      ];
      lines.push(`::error ${props.join(",")}::${escapeData(`${v.message} (${s.subject}, against ${v.against})`)}`);
    }
  }
  lines.push(summaryLine(report, noun));
  return lines;
}
