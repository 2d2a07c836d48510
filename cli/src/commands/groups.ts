import { describeGroup, listGroups, rewindGroup, type RewindTarget } from "@chronicle/runtime";
import { ExitCode, UsageError, type Command, type OptionSpec } from "../framework/command.js";
import { connectFromCli, natsConnectionOptions } from "../framework/nats-connection.js";

const connOptions: Record<string, OptionSpec> = {
  ...natsConnectionOptions,
  json: { type: "boolean", description: "Print JSON" },
};

/** Parses `--to`: `start`, a stream sequence or a time. @private */
export function parseRewindTarget(value: unknown): RewindTarget {
  const v = String(value ?? "");
  if (v === "start") return "start";
  if (/^\d+$/.test(v) && Number(v) >= 1) return Number(v);
  const t = new Date(v);
  if (v && !/^\d+$/.test(v) && !Number.isNaN(t.getTime())) return t;
  throw new UsageError(`--to must be "start", a stream sequence (1 or more) or a time like 2026-01-31T12:00:00Z, got ${JSON.stringify(v)}`);
}

/** `chronicle groups list|describe|rewind`: inspect and move consumer groups. */
export const groupsCommand: Command = {
  name: "groups",
  summary: "List, describe and rewind consumer groups",
  subcommands: [
    {
      name: "list",
      summary: "List consumer groups with their lag",
      positionals: [{ name: "stream", description: "Only groups of this stream" }],
      options: connOptions,
      async run(ctx) {
        await using conn = await connectFromCli(ctx, "chronicle-groups");
        const groups = await listGroups(conn, typeof ctx.args["stream"] === "string" ? ctx.args["stream"] : undefined);
        if (ctx.values["json"]) ctx.print(JSON.stringify(groups));
        else if (groups.length === 0) ctx.print("no consumer groups");
        else for (const g of groups) ctx.print(`${g.stream}\t${g.group}\tpartitions ${g.partitions}\tlag ${g.lag}`);
        return ExitCode.Ok;
      },
    },
    {
      name: "describe",
      summary: "Members, assignment and per-partition position and lag of a group",
      positionals: [
        { name: "stream", description: "Stream name", required: true },
        { name: "group", description: "Group name", required: true },
      ],
      options: connOptions,
      async run(ctx) {
        await using conn = await connectFromCli(ctx, "chronicle-groups");
        const d = await describeGroup(conn, String(ctx.args["stream"]), String(ctx.args["group"]));
        if (ctx.values["json"]) {
          ctx.print(JSON.stringify(d));
          return ExitCode.Ok;
        }
        ctx.print(`group ${d.group} of ${d.stream}: epoch ${d.epoch}, lag ${d.lag}`);
        ctx.print(`members (${d.members.filter((m) => m.live).length} live):`);
        for (const m of d.members) ctx.print(`  ${m.id}\t${m.host} pid ${m.pid}\theartbeat ${m.heartbeatAgeMs} ms ago${m.live ? "" : " (dead)"}`);
        ctx.print("partition\towner\tfloor\tin flight\tpending\tlag");
        for (const p of d.partitions) ctx.print(`${p.partition}\t${p.owner ?? "-"}\t${p.floor}\t${p.inFlight}\t${p.pending}\t${p.lag}`);
        return ExitCode.Ok;
      },
    },
    {
      name: "rewind",
      summary: "Move a stopped group to the start, a sequence or a time",
      description:
        "Every partition of the group restarts at the target, and events from there on are handled again (the group's idempotency epoch changes). Refused while members run: stop them, rewind, start them again.",
      positionals: [
        { name: "stream", description: "Stream name", required: true },
        { name: "group", description: "Group name", required: true },
      ],
      options: { ...connOptions, to: { type: "string", valueName: "start|SEQ|TIME", description: "Where to rewind to" } },
      examples: ["chronicle groups rewind orders billing --to start", "chronicle groups rewind orders billing --to 2026-01-31T12:00:00Z"],
      async run(ctx) {
        if (ctx.values["to"] === undefined) throw new UsageError("--to is required: start, a stream sequence or a time");
        const to = parseRewindTarget(ctx.values["to"]);
        await using conn = await connectFromCli(ctx, "chronicle-groups");
        const r = await rewindGroup(conn, String(ctx.args["stream"]), String(ctx.args["group"]), { to });
        ctx.print(ctx.values["json"] ? JSON.stringify(r) : `rewound ${r.partitions} partitions; epoch ${r.epoch}`);
        return ExitCode.Ok;
      },
    },
  ],
};
