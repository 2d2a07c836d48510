import { lag, listGroups } from "@chronicle/runtime";
import { ExitCode } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import type { LagContext } from "./spec.js";

/** Runs `chronicle lag`. */
export async function runLag(ctx: LagContext): Promise<number> {
  const max = ctx.values.max;
  await using conn = await connectFromCli(ctx, "chronicle-lag");
  const { stream, group } = ctx.args;
  const streams = stream ? [stream] : [...new Set((await listGroups(conn)).map((g) => g.stream))];
  const rows: { stream: string; group: string; lag: number; partitions: Record<number, number> }[] = [];
  for (const s of streams) for (const g of await lag(conn, s, group)) rows.push({ stream: s, ...g });
  if (ctx.values.json) ctx.print(JSON.stringify(rows));
  else {
    for (const r of rows) {
      ctx.print(`${r.stream}\t${r.group}\t${r.lag}`);
      if (ctx.values.partitions) for (const [p, v] of Object.entries(r.partitions)) ctx.print(`  partition ${p}\t${v}`);
    }
    if (rows.length === 0) ctx.print("no consumer groups");
  }
  return max !== undefined && rows.some((r) => r.lag > max) ? ExitCode.CheckFailed : ExitCode.Ok;
}
