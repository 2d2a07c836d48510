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
  const building = workingTreeSide(dir);
  let report: CheckReport;
  if (sources[0] === "registry") {
    const current = await building;
    using registry = await registryOf(v);
    report = await checkAgainstRegistry(current, registry, overrides, selection);
  } else {
    // both sides at once (two buf builds against git); errors as if in turn: the working tree's first
    const earlier =
      sources[0] === "against-git"
        ? gitRefSide(dir, given(v["against-git"])!)
        : Promise.resolve().then(() => imageFileSide(ctx.cwd, given(v["against-image"])!));
    const [current, before] = await inTurn(building, earlier);
    const config = { ...readSchemaConfig(dir), ...overrides };
    report = checkAgainstSide(current, before, config, selection);
  }
  await printReport(ctx, report, format, noun);
  return report.compatible ? ExitCode.Ok : ExitCode.CheckFailed;
}

/** Both results, or the first promise's error before the second's, as if they had run one after the other. */
async function inTurn<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === "rejected") throw a.reason;
  if (b.status === "rejected") throw b.reason;
  return [a.value, b.value];
}
