import { resolve } from "node:path";
import { applyStreams, planStreams, type StreamPlan, type StreamSettings } from "@chronicle/runtime";
import { ExitCode, type Command, type CommandContext, type OptionSpec } from "../framework/command.js";
import { loadProject } from "../project/load-project.js";
import { connectFromCli, natsConnectionOptions } from "../framework/nats-connection.js";

/** Options shared by commands that talk to NATS. @private */
export const serverOptions: Record<string, OptionSpec> = {
  ...natsConnectionOptions,
  dir: { type: "string", valueName: "DIR", description: "Project folder with buf.yaml and the protos", default: "." },
};

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

async function run(ctx: CommandContext, apply: boolean): Promise<number> {
  const project = await loadProject(resolve(ctx.cwd, String(ctx.values["dir"] ?? ".")));
  const settings: StreamSettings[] = project.streams.map((s) => ({ ...s.settings }));
  if (settings.length === 0) {
    ctx.warn("chronicle: the project declares no streams ((chronicle.v1.stream) options)");
    return ExitCode.Ok;
  }
  const force = ctx.values["force"] === true;
  await using conn = await connectFromCli(ctx, "chronicle-cli");
  const plans = apply ? await applyStreams(conn, settings, { force }) : await planStreams(conn, settings, { force });
  if (ctx.values["json"]) ctx.print(JSON.stringify(plans));
  else for (const line of renderPlans(plans, apply)) ctx.print(line);
  return plans.some((p) => p.action === "refused") ? ExitCode.CheckFailed : ExitCode.Ok;
}

/** `chronicle streams plan|apply`: provision the project's streams and dead-letter streams. */
export const streamsCommand: Command = {
  name: "streams",
  summary: "Show or apply the difference between the project's stream definitions and the server",
  subcommands: [
    {
      name: "plan",
      summary: "Show what apply would change, without changing anything",
      description:
        "Compiles the project's protos (buf build), reads each stream's settings from its (chronicle.v1.stream) option and compares them with the streams and dead-letter streams on the server: create, update (with each field's change), unchanged, or refused with the reason (a change that would remap keys or lose events). Exit code 1 when a change would be refused.",
      options: {
        ...serverOptions,
        force: { type: "boolean", description: "Plan as apply --force would: destructive changes are applied, not refused" },
        json: { type: "boolean", description: "Print the plans as JSON" },
      },
      examples: ["chronicle streams plan", "chronicle streams plan --servers nats://10.0.0.5:4222 --json"],
      run: (ctx) => run(ctx, false),
    },
    {
      name: "apply",
      summary: "Create or update the project's streams and dead-letter streams",
      description:
        "Creates missing streams (S, subjects S.*.* partitioned by a subject transform) and their dead-letter streams (S_dlq), and applies safe changes. Changes that would remap keys (partitions) or lose events (shorter max age, smaller limits, another storage type) are refused unless --force; with --force a storage change deletes and recreates the stream. Idempotent. Exit code 1 when a change was refused.",
      options: {
        ...serverOptions,
        force: { type: "boolean", description: "Apply changes that remap keys or lose stored events" },
        json: { type: "boolean", description: "Print the results as JSON" },
      },
      examples: ["chronicle streams apply", "chronicle streams apply --force --json"],
      run: (ctx) => run(ctx, true),
    },
  ],
};
