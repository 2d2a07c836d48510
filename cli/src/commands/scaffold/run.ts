import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { ExitCode, UsageError } from "../../framework/command.js";
import { loadProject } from "../../project/load-project.js";
import { addHandlerStubs } from "../../scaffold/add-handler-stubs.js";
import type { ScaffoldContext } from "./spec.js";

/** Runs `chronicle scaffold`. */
export async function runScaffold(ctx: ScaffoldContext): Promise<number> {
  const { streams } = await loadProject(resolve(ctx.cwd, ctx.values.dir));
  const check = ctx.values.check;
  let pending = 0;
  for (const file of ctx.args.files.map((f) => resolve(ctx.cwd, f))) {
    let source: string;
    try {
      source = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const { text, added } = addHandlerStubs(file, source, streams);
    const shown = relative(ctx.cwd, file);
    if (!added.length) {
      ctx.print(`${shown}: every event type has a handler`);
      continue;
    }
    pending += added.length;
    if (!check) writeFileSync(file, text);
    for (const a of added) ctx.print(`${shown}:${a.line}: ${check ? "missing" : "added"} ${a.event} in ${a.helper}(...)`);
  }
  return check && pending > 0 ? ExitCode.CheckFailed : ExitCode.Ok;
}
