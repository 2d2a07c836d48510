import { resolve } from "node:path";
import { ExitCode } from "../../framework/command.js";
import { checkAgainstRegistry } from "../../schema/check.js";
import { pushReport } from "../../schema/push.js";
import { workingTreeSide } from "../../schema/sides.js";
import { formatOf, printReport, registryOf } from "./shared.js";
import type { SchemaPushContext } from "./spec.js";

/** Runs `chronicle schema push`. */
export async function runSchemaPush(ctx: SchemaPushContext): Promise<number> {
  const v = ctx.values;
  const format = formatOf(v.format);
  const selection = { allMessages: v["all-messages"] };
  const noun = selection.allMessages ? "message" : "event";
  using registry = await registryOf(v);
  const current = await workingTreeSide(resolve(ctx.cwd, v.dir));
  const report = await checkAgainstRegistry(current, registry, {}, selection);
  if (!report.compatible) {
    await printReport(ctx, report, format, noun, { registered: [] });
    if (format !== "json") ctx.warn("chronicle: nothing was registered: fix the incompatible schemas first (see above)");
    return ExitCode.CheckFailed;
  }
  const pushed = await pushReport(current, registry, report);
  if (format === "json") {
    await printReport(ctx, pushed.report, format, noun, { registered: pushed.registered });
  } else {
    for (const line of pushed.lines) ctx.print(line);
    if (!pushed.report.compatible) await printReport(ctx, pushed.report, format, noun);
  }
  return pushed.report.compatible ? ExitCode.Ok : ExitCode.CheckFailed;
}
