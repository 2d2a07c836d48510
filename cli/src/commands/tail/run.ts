import { resolve } from "node:path";
import { fromBinary, toJson, type FileRegistry, type JsonValue } from "@bufbuild/protobuf";
import { replayStored, type ReplayFrom, type StoredEvent } from "@chronicle/runtime";
import { ExitCode, UsageError } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import { loadProject } from "../../project/load-project.js";
import type { TailContext } from "./spec.js";

/** Parses `--from`: `start`, a stream sequence, or a time (RFC 3339 / anything `Date` reads). @private */
export function parseFrom(value: string): ReplayFrom {
  if (value === "start") return "start";
  if (/^\d+$/.test(value) && Number(value) >= 1) return { sequence: Number(value) };
  const t = new Date(value);
  if (!/^\d+$/.test(value) && !Number.isNaN(t.getTime())) return { time: t };
  throw new UsageError(`--from must be "start", a sequence (1 or more) or a time like 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
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

/** Runs `chronicle tail`. */
export async function runTail(ctx: TailContext): Promise<number> {
  const v = ctx.values;
  const stream = ctx.args.stream;
  const from = parseFrom(v.from);
  const { limit, partition } = v;
  let registry: FileRegistry | undefined;
  let why: string | undefined;
  const typeByName = new Map<string, string>();
  try {
    const project = await loadProject(resolve(ctx.cwd, v.dir));
    registry = project.registry;
    for (const s of project.streams) if (s.settings.name === stream) for (const e of s.events) typeByName.set(e.name, e.typeName);
  } catch (err) {
    why = `project protos not loaded: ${(err as Error).message.split("\n")[0]}`;
    ctx.warn(`chronicle: ${why}; printing events raw`);
  }
  let event = v.type;
  if (event?.includes(".")) {
    const short = [...typeByName].find(([, full]) => full === event)?.[0];
    if (!short) throw new UsageError(`--type ${event}: no event of stream ${stream} has this full name; use its name in the stream`);
    event = short;
  }
  await using conn = await connectFromCli(ctx, "chronicle-tail");
  let printed = 0;
  for await (const s of replayStored(conn, stream, {
    from,
    follow: v.follow,
    signal: ctx.signal,
    ...(v.key !== undefined ? { key: v.key } : {}),
    ...(event ? { event } : {}),
    ...(partition !== undefined ? { partition } : {}),
  })) {
    const d = decode(s, registry, typeByName, why);
    if (v.json) {
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
}
