import { resolve } from "node:path";
import { ExitCode, UsageError } from "../../framework/command.js";
import { checkAgainstRegistry, checkAgainstSide, type RegistryOverrides } from "../../schema/check.js";
import { parseMode, parseRules, readSchemaConfig } from "../../schema/config.js";
import { gitRefSide, imageFileSide, workingTreeSide } from "../../schema/sides.js";
import type { CheckReport } from "../../schema/types.js";
import { formatOf, given, printReport, registryOf } from "./shared.js";
import type { SchemaCheckContext } from "./spec.js";

/** Runs `chronicle schema check`. */
export async function runSchemaCheck(ctx: SchemaCheckContext): Promise<number> {
  const v = ctx.values;
  const format = formatOf(v.format);
  const dir = resolve(ctx.cwd, v.dir);
  const sources = (["registry", "against-git", "against-image"] as const).filter((k) => given(v[k]) !== undefined);
  if (sources.length !== 1) {
    throw new UsageError(
      `give exactly one of --registry URL, --against-git REF, --against-image FILE${sources.length ? ` (got ${sources.map((s) => `--${s}`).join(" and ")})` : ""}; see "chronicle schema check --help"`,
    );
  }
  const mode = given(v.mode);
  const rules = given(v.rules);
  const overrides: RegistryOverrides = {
    ...(mode ? { mode: parseMode(mode, "--mode") } : {}),
    ...(rules ? { rules: parseRules(rules, "--rules") } : {}),
  };
  const selection = { allMessages: v["all-messages"] };
  const noun = selection.allMessages ? "message" : "event";
  const current = await workingTreeSide(dir);
  let report: CheckReport;
  if (sources[0] === "registry") {
    using registry = await registryOf(v);
    report = await checkAgainstRegistry(current, registry, overrides, selection);
  } else {
    const config = { ...readSchemaConfig(dir), ...overrides };
    const earlier = sources[0] === "against-git" ? await gitRefSide(dir, given(v["against-git"])!) : imageFileSide(ctx.cwd, given(v["against-image"])!);
    report = checkAgainstSide(current, earlier, config, selection);
  }
  await printReport(ctx, report, format, noun);
  return report.compatible ? ExitCode.Ok : ExitCode.CheckFailed;
}
