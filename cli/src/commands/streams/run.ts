import { resolve } from "node:path";
import { applyStreams, planStreams, resolveStreamSettings, type StreamPlan } from "@chronicle/runtime";
import { ExitCode } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import { loadProject } from "../../project/load-project.js";
import type { StreamsApplyContext, StreamsPlanContext } from "./spec.js";

function formatValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Renders plans for people: one line per stream, one indented line per change. @private */
export function renderPlans(plans: readonly StreamPlan[], applying: boolean): string[] {
  const lines: string[] = [];
  for (const p of plans) {
    const verb = applying && p.applied ? { create: "created", update: "updated", recreate: "recreated" }[p.action as "create"] : p.action;
    lines.push(`${p.stream.padEnd(24)} ${verb}${p.forced ? " (forced)" : ""}`);
    for (const c of p.changes) lines.push(`  ${c.field}: ${formatValue(c.from)} -> ${formatValue(c.to)}${c.destructive ? `  [destructive: ${c.reason}]` : ""}`);
    if (p.action === "refused") lines.push(`  refused: ${p.reason}`);
  }
  return lines;
}

async function run(ctx: StreamsPlanContext | StreamsApplyContext, apply: boolean): Promise<StreamPlan[] | undefined> {
  const project = await loadProject(resolve(ctx.cwd, ctx.values.dir));
  // the protos declare only what differs from the runtime's defaults
  const settings = project.streams.map((s) => resolveStreamSettings(s.settings));
  if (settings.length === 0) {
    ctx.warn("chronicle: the project declares no streams ((chronicle.v1.stream) options)");
    return undefined;
  }
  const force = ctx.values.force;
  await using conn = await connectFromCli(ctx, "chronicle-cli");
  const plans = apply ? await applyStreams(conn, settings, { force }) : await planStreams(conn, settings, { force });
  if (ctx.values.json) ctx.print(JSON.stringify(plans));
  else for (const line of renderPlans(plans, apply)) ctx.print(line);
  return plans;
}

/** Runs `chronicle streams plan`. */
export async function runStreamsPlan(ctx: StreamsPlanContext): Promise<number> {
  const plans = await run(ctx, false);
  if (plans?.some((p) => p.action === "refused")) return ExitCode.CheckFailed;
  return ctx.values["exit-code"] && plans?.some((p) => p.action !== "unchanged") ? ExitCode.CheckFailed : ExitCode.Ok;
}

/** Runs `chronicle streams apply`. */
export async function runStreamsApply(ctx: StreamsApplyContext): Promise<number> {
  const plans = await run(ctx, true);
  return plans?.some((p) => p.action === "refused") ? ExitCode.CheckFailed : ExitCode.Ok;
}
