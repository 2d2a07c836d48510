import { resolve } from "node:path";
import { UsageError } from "../../framework/command.js";
import { OUTPUT_FORMATS, formatGithub, formatJson, formatText, type OutputFormat } from "../../schema/format.js";
import type { RegistryAccess } from "../../schema/registry-access.js";
import { reportBase } from "../../schema/report-base.js";
import type { CheckReport } from "../../schema/types.js";
import { REGISTRY_TOKEN_ENV } from "../../framework/common-options.js";

/** A string option's value, `undefined` when absent or empty. */
export function given(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Validates `--format` against the formats a command accepts. */
export function formatOf(value: string, allowed: readonly OutputFormat[] = OUTPUT_FORMATS): OutputFormat {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--format must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as OutputFormat;
}

/**
 * Opens the registry of `--registry` with `--token` (or `$CHRONICLE_REGISTRY_TOKEN`).
 * The registry client (connect-node and its transports) is loaded here, so
 * checks against git or an image never load it.
 */
export async function registryOf(values: { registry: string | undefined; token: string | undefined }): Promise<RegistryAccess> {
  const url = given(values.registry);
  if (!url) throw new UsageError("--registry URL is required (or, for diff, --against-git REF)");
  const token = given(values.token) ?? given(process.env[REGISTRY_TOKEN_ENV]);
  const { openRegistry } = await import("../../schema/registry-access.js");
  return openRegistry({ url, ...(token ? { token } : {}) });
}

/** Prints a check report in the chosen format, paths relative to the repository (or the current folder). */
export async function printReport(
  ctx: { cwd: string; print(line: string): void; values: { dir: string } },
  report: CheckReport,
  format: OutputFormat,
  noun: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const base = await reportBase(ctx.cwd, resolve(ctx.cwd, ctx.values.dir), format);
  if (format === "json") ctx.print(formatJson(report, base, extra));
  else for (const line of format === "github" ? formatGithub(report, base, noun) : formatText(report, base, noun)) ctx.print(line);
}
