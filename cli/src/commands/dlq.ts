import { resolve } from "node:path";
import { fromBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { getDeadLetter, listDeadLetters, purgeDeadLetters, redriveDeadLetter, type DeadLetter } from "@chronicle/runtime";
import { ExitCode, UsageError, intOption, type Command, type CommandContext, type OptionSpec } from "../framework/command.js";
import { loadProject } from "../project/load-project.js";
import { connectFromCli, natsConnectionOptions } from "../framework/nats-connection.js";

const connOptions: Record<string, OptionSpec> = {
  ...natsConnectionOptions,
  json: { type: "boolean", description: "Print JSON" },
};
const streamArg = { name: "stream", description: "Stream name (its dead letters are in <stream>_dlq)", required: true };
const seqArg = { name: "seq", description: "Sequence of the dead letter in <stream>_dlq (see dlq list)", required: true };

function seqOf(ctx: CommandContext): number {
  const n = intOption(ctx.args["seq"], "seq", 1, Number.MAX_SAFE_INTEGER);
  if (n === undefined) throw new UsageError("a dead-letter sequence is required");
  return n;
}

function summary(d: DeadLetter): Record<string, unknown> {
  const { data, headers, ...rest } = d;
  return { ...rest, size: data.length, headers };
}

/** Decodes a dead letter's payload with the project's protos, or says why not. */
async function decodeDeadLetter(ctx: CommandContext, d: DeadLetter): Promise<{ event?: JsonValue; note?: string }> {
  const type = d.headers["ce-type"];
  try {
    const project = await loadProject(resolve(ctx.cwd, String(ctx.values["dir"] ?? ".")));
    const name = type ?? project.streams.find((s) => s.settings.name === d.origin.stream)?.events.find((e) => e.name === d.eventName)?.typeName;
    const schema = name ? project.registry.getMessage(name) : undefined;
    if (!schema) return { note: `type ${name ?? d.eventName} is not in the project's protos; payload printed as base64` };
    return { event: toJson(schema, fromBinary(schema, d.data), { registry: project.registry }) };
  } catch (err) {
    return { note: `not decoded (${(err as Error).message.split("\n")[0]}); payload printed as base64` };
  }
}

/** `chronicle dlq list|show|redrive|purge`: dead letters of a stream. */
export const dlqCommand: Command = {
  name: "dlq",
  summary: "List, inspect, redrive and purge dead letters",
  subcommands: [
    {
      name: "list",
      summary: "List the dead letters of a stream",
      positionals: [streamArg],
      options: {
        ...connOptions,
        group: { type: "string", valueName: "G", description: "Only dead letters of this group" },
        limit: { type: "string", valueName: "N", description: "At most N (default 1000)" },
      },
      async run(ctx) {
        await using conn = await connectFromCli(ctx, "chronicle-dlq");
        const limit = intOption(ctx.values["limit"], "limit", 1, Number.MAX_SAFE_INTEGER);
        const list = await listDeadLetters(conn, String(ctx.args["stream"]), {
          ...(typeof ctx.values["group"] === "string" ? { group: ctx.values["group"] } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        if (ctx.values["json"]) ctx.print(JSON.stringify(list.map(summary)));
        else if (list.length === 0) ctx.print("no dead letters");
        else {
          ctx.print("seq\tgroup\tevent\tkey\torigin\tattempts\treason\terror");
          for (const d of list)
            ctx.print(
              `${d.dlqSequence}\t${d.group}\t${d.eventName}\t${d.key}\t${d.origin.stream}#${d.origin.sequence}\t${d.attempts}\t${d.reason}\t${d.error}`,
            );
        }
        return ExitCode.Ok;
      },
    },
    {
      name: "show",
      summary: "Show one dead letter, its headers and its event decoded with the project's protos",
      positionals: [streamArg, seqArg],
      options: { ...connOptions, dir: { type: "string", valueName: "DIR", description: "Project folder with buf.yaml and the protos", default: "." } },
      async run(ctx) {
        await using conn = await connectFromCli(ctx, "chronicle-dlq");
        const d = await getDeadLetter(conn, String(ctx.args["stream"]), seqOf(ctx));
        const decoded = await decodeDeadLetter(ctx, d);
        const out = { ...summary(d), ...decoded, ...(decoded.event === undefined ? { payloadBase64: Buffer.from(d.data).toString("base64") } : {}) };
        if (ctx.values["json"]) ctx.print(JSON.stringify(out));
        else {
          ctx.print(`dead letter #${d.dlqSequence} of group ${d.group}: ${d.reason} after ${d.attempts} attempt(s)`);
          ctx.print(`origin  ${d.origin.stream}#${d.origin.sequence} ${d.origin.subject}`);
          ctx.print(`error   ${d.error}`);
          ctx.print(`failed  ${d.firstFailure} .. ${d.lastFailure}`);
          for (const [k, v] of Object.entries(d.headers)) ctx.print(`  ${k}: ${v}`);
          if (decoded.event !== undefined) ctx.print(JSON.stringify(decoded.event, null, 2));
          else {
            ctx.print(`note: ${decoded.note}`);
            ctx.print(Buffer.from(d.data).toString("base64"));
          }
        }
        return ExitCode.Ok;
      },
    },
    {
      name: "redrive",
      summary: "Send dead letters back to their group (only that group handles them again)",
      positionals: [streamArg, { name: "seq", description: "Dead-letter sequence; omit with --all" }],
      options: {
        ...connOptions,
        all: { type: "boolean", description: "Redrive every dead letter (of --group, if given)" },
        group: { type: "string", valueName: "G", description: "With --all: only this group's" },
      },
      async run(ctx) {
        const stream = String(ctx.args["stream"]);
        await using conn = await connectFromCli(ctx, "chronicle-dlq");
        let seqs: number[];
        if (ctx.values["all"])
          seqs = (await listDeadLetters(conn, stream, typeof ctx.values["group"] === "string" ? { group: ctx.values["group"] } : {})).map((d) => d.dlqSequence);
        else seqs = [seqOf(ctx)];
        const done: { dlqSequence: number; redriveSequence: number }[] = [];
        for (const s of seqs) done.push({ dlqSequence: s, redriveSequence: await redriveDeadLetter(conn, stream, s) });
        ctx.print(ctx.values["json"] ? JSON.stringify(done) : `redriven ${done.length} dead letter(s)`);
        return ExitCode.Ok;
      },
    },
    {
      name: "purge",
      summary: "Delete the dead letters of a stream (or of one group)",
      positionals: [streamArg],
      options: { ...connOptions, group: { type: "string", valueName: "G", description: "Only this group's" } },
      async run(ctx) {
        await using conn = await connectFromCli(ctx, "chronicle-dlq");
        const n = await purgeDeadLetters(conn, String(ctx.args["stream"]), typeof ctx.values["group"] === "string" ? { group: ctx.values["group"] } : {});
        ctx.print(ctx.values["json"] ? JSON.stringify({ purged: n }) : `purged ${n} dead letter(s)`);
        return ExitCode.Ok;
      },
    },
  ],
};
