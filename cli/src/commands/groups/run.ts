import { describeGroup, listGroups, rewindGroup, type RewindTarget } from "@chronicle/runtime";
import { ExitCode, UsageError } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import type { GroupsDescribeContext, GroupsListContext, GroupsRewindContext } from "./spec.js";

/** Parses `--to`: `start`, a stream sequence or a time. @private */
export function parseRewindTarget(value: string): RewindTarget {
  if (value === "start") return "start";
  if (/^\d+$/.test(value) && Number(value) >= 1) return Number(value);
  const t = new Date(value);
  if (value && !/^\d+$/.test(value) && !Number.isNaN(t.getTime())) return t;
  throw new UsageError(`--to must be "start", a stream sequence (1 or more) or a time like 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
}

/** Runs `chronicle groups list`. */
export async function runGroupsList(ctx: GroupsListContext): Promise<number> {
  await using conn = await connectFromCli(ctx, "chronicle-groups");
  const groups = await listGroups(conn, ctx.args.stream);
  if (ctx.values.json) ctx.print(JSON.stringify(groups));
  else if (groups.length === 0) ctx.print("no consumer groups");
  else for (const g of groups) ctx.print(`${g.stream}\t${g.group}\tpartitions ${g.partitions}\tlag ${g.lag}`);
  return ExitCode.Ok;
}

/** Runs `chronicle groups describe`. */
export async function runGroupsDescribe(ctx: GroupsDescribeContext): Promise<number> {
  await using conn = await connectFromCli(ctx, "chronicle-groups");
  const d = await describeGroup(conn, ctx.args.stream, ctx.args.group);
  if (ctx.values.json) {
    ctx.print(JSON.stringify(d));
    return ExitCode.Ok;
  }
  ctx.print(`group ${d.group} of ${d.stream}: epoch ${d.epoch}, lag ${d.lag}`);
  ctx.print(`members (${d.members.filter((m) => m.live).length} live):`);
  for (const m of d.members) {
    const counts = m.counts ? `\thandled ${m.counts.handled}, failed ${m.counts.failed}, dead-lettered ${m.counts.deadLettered}` : "";
    ctx.print(`  ${m.id}\t${m.host} pid ${m.pid}\theartbeat ${m.heartbeatAgeMs} ms ago${m.live ? "" : " (dead)"}${counts}`);
  }
  ctx.print("partition\towner\tfloor\tin flight\tpending\tlag");
  for (const p of d.partitions) ctx.print(`${p.partition}\t${p.owner ?? "-"}\t${p.floor}\t${p.inFlight}\t${p.pending}\t${p.lag}`);
  return ExitCode.Ok;
}

/** Runs `chronicle groups rewind`. */
export async function runGroupsRewind(ctx: GroupsRewindContext): Promise<number> {
  if (ctx.values.to === undefined) throw new UsageError("--to is required: start, a stream sequence or a time");
  const to = parseRewindTarget(ctx.values.to);
  await using conn = await connectFromCli(ctx, "chronicle-groups");
  const r = await rewindGroup(conn, ctx.args.stream, ctx.args.group, { to });
  ctx.print(ctx.values.json ? JSON.stringify(r) : `rewound ${r.partitions} partitions; epoch ${r.epoch}`);
  return ExitCode.Ok;
}
