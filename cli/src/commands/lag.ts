import { lag, listGroups } from "@chronicle/runtime";
import { ExitCode, intOption, type Command } from "../framework/command.js";
import { connectFromCli, natsConnectionOptions } from "../framework/nats-connection.js";

/** `chronicle lag`: unacknowledged events per group, optionally failing above a limit. */
export const lagCommand: Command = {
  name: "lag",
  summary: "Events not yet handled, per consumer group and partition",
  description:
    "Prints the lag (pending + unacknowledged events) of every group, or of one stream or group. With --max, exits 1 when a group's lag is above it (for health checks).",
  positionals: [
    { name: "stream", description: "Only this stream" },
    { name: "group", description: "Only this group" },
  ],
  options: {
    ...natsConnectionOptions,
    json: { type: "boolean", description: "Print JSON" },
    max: { type: "string", valueName: "N", description: "Exit 1 when a group's lag is above N" },
    partitions: { type: "boolean", description: "Show the lag of each partition" },
  },
  async run(ctx) {
    const max = intOption(ctx.values["max"], "max", 0, Number.MAX_SAFE_INTEGER);
    await using conn = await connectFromCli(ctx, "chronicle-lag");
    const streamArg = typeof ctx.args["stream"] === "string" ? ctx.args["stream"] : undefined;
    const groupArg = typeof ctx.args["group"] === "string" ? ctx.args["group"] : undefined;
    const streams = streamArg ? [streamArg] : [...new Set((await listGroups(conn)).map((g) => g.stream))];
    const rows: { stream: string; group: string; lag: number; partitions: Record<number, number> }[] = [];
    for (const s of streams) for (const g of await lag(conn, s, groupArg)) rows.push({ stream: s, ...g });
    if (ctx.values["json"]) ctx.print(JSON.stringify(rows));
    else {
      for (const r of rows) {
        ctx.print(`${r.stream}\t${r.group}\t${r.lag}`);
        if (ctx.values["partitions"]) for (const [p, v] of Object.entries(r.partitions)) ctx.print(`  partition ${p}\t${v}`);
      }
      if (rows.length === 0) ctx.print("no consumer groups");
    }
    return max !== undefined && rows.some((r) => r.lag > max) ? ExitCode.CheckFailed : ExitCode.Ok;
  },
};
