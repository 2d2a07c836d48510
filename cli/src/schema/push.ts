import { extractSubjectSchema } from "@chronicle/registry/compat";
import { reportViolations } from "./check.js";
import type { RegistryAccess } from "./registry-access.js";
import type { CheckReport, SchemaSide } from "./types.js";

/** One version `push` registered. */
export interface RegisteredSubject {
  subject: string;
  version: number;
  id: string;
}

/** What {@link pushReport} did. */
export interface PushResult {
  /** The check report, updated with the versions registered (and any registration refused by a concurrent change). */
  report: CheckReport;
  /** Versions that were new. */
  registered: RegisteredSubject[];
  /** Lines for people: one per subject and a summary. */
  lines: string[];
}

/**
 * Registers the new and changed subjects of a compatible check report, one
 * version each (the subject's schema as `extractSubjectSchema` cuts it from
 * the working tree's image). Subjects the registry already holds are left
 * alone. Call it only with a compatible report: `push` checks everything
 * first so that an incompatible change registers nothing. A registration the
 * registry still refuses (someone registered a conflicting version in
 * between) marks that subject incompatible.
 */
export async function pushReport(current: SchemaSide, registry: RegistryAccess, report: CheckReport): Promise<PushResult> {
  const registered: RegisteredSubject[] = [];
  const lines: string[] = [];
  for (const s of report.subjects) {
    if (s.status !== "new" && s.status !== "compatible") {
      lines.push(
        s.status === "unchanged"
          ? `  unchanged     ${s.subject}${s.version ? ` v${s.version}` : ""}`
          : `  ${s.status.padEnd(12)}  ${s.subject} (not registered)`,
      );
      continue;
    }
    const outcome = await registry.register(s.subject, extractSubjectSchema(current.image, s.subject));
    if (!outcome.ok) {
      s.status = "incompatible";
      s.violations = reportViolations(outcome.violations, current, undefined, (v) => (v.againstVersion ? `registry v${v.againstVersion}` : "registry"));
      lines.push(`  REFUSED       ${s.subject}: the registry changed since the check`);
      continue;
    }
    s.version = outcome.version;
    s.id = outcome.id;
    if (outcome.created) {
      registered.push({ subject: s.subject, version: outcome.version, id: outcome.id });
      lines.push(`  registered    ${s.subject} v${outcome.version} (${outcome.id})`);
    } else {
      s.status = "unchanged";
      lines.push(`  unchanged     ${s.subject} v${outcome.version}`);
    }
  }
  report.compatible = report.subjects.every((s) => s.violations.length === 0);
  const unchanged = report.subjects.filter((s) => s.status === "unchanged").length;
  lines.push(`${report.compatible ? "pushed" : "PARTLY REFUSED"}: ${registered.length} registered, ${unchanged} unchanged, at ${registry.url}`);
  return { report, registered, lines };
}
