import { resolve } from "node:path";
import { ExitCode } from "../../framework/command.js";
import { generateProject } from "../../project/generate.js";
import type { GenerateContext } from "./spec.js";

/** Runs `chronicle generate`. */
export async function runGenerate(ctx: GenerateContext): Promise<number> {
  const dir = resolve(ctx.cwd, ctx.values.dir);
  await generateProject(dir, { template: ctx.values.template });
  ctx.print(`generated code for ${dir}`);
  return ExitCode.Ok;
}
