import { resolve } from "node:path";
import { fromBinary, toJson, type FileRegistry, type JsonValue } from "@bufbuild/protobuf";
import { replayStored, type ReplayFrom, type StoredEvent } from "@chronicle/runtime";
import { ExitCode, UsageError, intOption, type Command } from "../framework/command.js";
import { loadProject } from "../project/load-project.js";
import { serverOptions } from "./streams.js";
import { connectFromCli } from "../framework/nats-connection.js";

/** Parses `--from`: `start`, a stream sequence, or a time (RFC 3339 / anything `Date` reads). @private */
export function parseFrom(value: unknown): ReplayFrom {
  if (value === undefined || value === "start") return "start";
  const v = String(value);
  if (/^\d+$/.test(v) && Number(v) >= 1) return { sequence: Number(v) };
  const t = new Date(v);
  if (!/^\d+$/.test(v) && !Number.isNaN(t.getTime())) return { time: t };
  throw new UsageError(`--from must be "start", a sequence (1 or more) or a time like 2026-01-31T12:00:00Z, got ${JSON.stringify(v)}`);
}

interface Decoded {
  event?: JsonValue;
  error?: string;
}

/** Decodes a stored event with the project's descriptors, by its `ce-type`, else by its name in the stream. */
function decode(stored: StoredEvent, registry: FileRegistry | undefined, typeByName: Map<string, string>, why: string | undefined): Decoded {
  if (!registry) return { error: why ?? "no descriptors" };
  const type = stored.type || typeByName.get(stored.name);
  if (!type) return { error: `no ce-type header and no event named ${JSON.stringify(stored.name)} in the project` };
  const schema = registry.getMessage(type);
  if (!schema) return { error: `type ${type} is not in the project's protos` };
  try {
    return { event: toJson(schema, fromBinary(schema, stored.data), { registry }) };
  } catch (err) {
    return { error: `cannot decode as ${type}: ${(err as Error).message}` };
  }
}

/** `chronicle tail`: print a stream's events, decoded. */
export const tailCommand: Command = {
  name: "tail",
  summary: "Print a stream's events, decoded with the project's protos",
  description:
    "Reads a stream through an ordered consumer (no durable state, no group touched) and prints each event decoded with the descriptors of the project's protos (buf build in --dir). Events that cannot be decoded are printed raw (base64) with the reason. Without --follow it stops after the last event stored when it started; with --follow it waits for new ones until Ctrl-C.",
  positionals: [{ name: "stream", description: "Stream name", required: true }],
  options: {
    ...serverOptions,
    from: { type: "string", valueName: "start|SEQ|TIME", description: "Where to start: start, a stream sequence or a time", default: "start" },
    key: { type: "string", valueName: "K", description: "Only events of this key" },
    type: { type: "string", valueName: "T", description: "Only events of this type (name in the stream, like OrderPlaced, or proto full name)" },
    partition: { type: "string", valueName: "P", description: "Only events of this partition" },
    limit: { type: "string", valueName: "N", description: "Stop after N events" },
    follow: { type: "boolean", short: "f", description: "Keep printing new events until interrupted" },
    json: { type: "boolean", description: "One JSON object per event" },
  },
  examples: [
    "chronicle tail orders",
    "chronicle tail orders --key order-17 --from 2026-01-31T00:00:00Z",
    "chronicle tail orders --type OrderPlaced --follow --json",
  ],
  async run(ctx) {
    const stream = String(ctx.args["stream"]);
    const from = parseFrom(ctx.values["from"]);
    const limit = intOption(ctx.values["limit"], "limit", 1, Number.MAX_SAFE_INTEGER);
    const partition = intOption(ctx.values["partition"], "partition", 0, 1023);
    let registry: FileRegistry | undefined;
    let why: string | undefined;
    const typeByName = new Map<string, string>();
    try {
      const project = await loadProject(resolve(ctx.cwd, String(ctx.values["dir"] ?? ".")));
      registry = project.registry;
      for (const s of project.streams) if (s.settings.name === stream) for (const e of s.events) typeByName.set(e.name, e.typeName);
    } catch (err) {
      why = `project protos not loaded: ${(err as Error).message.split("\n")[0]}`;
      ctx.warn(`chronicle: ${why}; printing events raw`);
    }
    let event = typeof ctx.values["type"] === "string" ? ctx.values["type"] : undefined;
    if (event?.includes(".")) {
      const short = [...typeByName].find(([, full]) => full === event)?.[0];
      if (!short) throw new UsageError(`--type ${event}: no event of stream ${stream} has this full name; use its name in the stream`);
      event = short;
    }
    await using conn = await connectFromCli(ctx, "chronicle-tail");
    let printed = 0;
    for await (const s of replayStored(conn, stream, {
      from,
      follow: ctx.values["follow"] === true,
      signal: ctx.signal,
      ...(typeof ctx.values["key"] === "string" ? { key: ctx.values["key"] } : {}),
      ...(event ? { event } : {}),
      ...(partition !== undefined ? { partition } : {}),
    })) {
      const d = decode(s, registry, typeByName, why);
      if (ctx.values["json"]) {
        ctx.print(
          JSON.stringify({
            sequence: s.sequence,
            partition: s.partition,
            subject: s.subject,
            time: s.time.toISOString(),
            id: s.id,
            type: s.type,
            name: s.name,
            key: s.key,
            ...(d.error === undefined ? { event: d.event } : { raw: Buffer.from(s.data).toString("base64"), error: d.error }),
          }),
        );
      } else {
        const head = `#${s.sequence} p${s.partition} ${s.time.toISOString()} ${s.name} key=${JSON.stringify(s.key)}`;
        ctx.print(d.error === undefined ? `${head} ${JSON.stringify(d.event)}` : `${head} raw=${Buffer.from(s.data).toString("base64")} (${d.error})`);
      }
      if (limit !== undefined && ++printed >= limit) break;
    }
    return ExitCode.Ok;
  },
};
