import { resolve } from "node:path";
import { fromBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { getDeadLetter, listDeadLetters, purgeDeadLetters, redriveDeadLetter, type DeadLetter } from "@chronicle/runtime";
import { ExitCode, UsageError, intOption } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import { loadProject } from "../../project/load-project.js";
import type { DlqListContext, DlqPurgeContext, DlqRedriveContext, DlqShowContext } from "./spec.js";

function seqOf(value: string | undefined): number {
  const n = intOption(value, "<seq>", 1, Number.MAX_SAFE_INTEGER);
  if (n === undefined) throw new UsageError("<seq> is required: the sequence of a dead letter (see dlq list), or --all");
  return n;
}

function summary(d: DeadLetter): Record<string, unknown> {
  const { data, headers, ...rest } = d;
  return { ...rest, size: data.length, headers };
}

/** Decodes a dead letter's payload with the project's protos, or says why not. */
async function decodeDeadLetter(dir: string, d: DeadLetter): Promise<{ event?: JsonValue; note?: string }> {
  const type = d.headers["ce-type"];
  try {
    const project = await loadProject(dir);
    const name = type ?? project.streams.find((s) => s.settings.name === d.origin.stream)?.events.find((e) => e.name === d.eventName)?.typeName;
    const schema = name ? project.registry.getMessage(name) : undefined;
    if (!schema) return { note: `type ${name ?? d.eventName} is not in the project's protos; payload printed as base64` };
    return { event: toJson(schema, fromBinary(schema, d.data), { registry: project.registry }) };
  } catch (err) {
    return { note: `not decoded (${(err as Error).message.split("\n")[0]}); payload printed as base64` };
  }
}

/** Runs `chronicle dlq list`. */
export async function runDlqList(ctx: DlqListContext): Promise<number> {
  const limit = ctx.values.limit;
  await using conn = await connectFromCli(ctx, "chronicle-dlq");
  const list = await listDeadLetters(conn, ctx.args.stream, {
    ...(ctx.values.group !== undefined ? { group: ctx.values.group } : {}),
    ...(limit !== undefined ? { limit } : {}),
  });
  if (ctx.values.json) ctx.print(JSON.stringify(list.map(summary)));
  else if (list.length === 0) ctx.print("no dead letters");
  else {
    ctx.print("seq\tgroup\tevent\tkey\torigin\tattempts\treason\terror");
    for (const d of list)
      ctx.print(`${d.dlqSequence}\t${d.group}\t${d.eventName}\t${d.key}\t${d.origin.stream}#${d.origin.sequence}\t${d.attempts}\t${d.reason}\t${d.error}`);
  }
  return ExitCode.Ok;
}

/** Runs `chronicle dlq show`. */
export async function runDlqShow(ctx: DlqShowContext): Promise<number> {
  const seq = seqOf(ctx.args.seq);
  await using conn = await connectFromCli(ctx, "chronicle-dlq");
  const d = await getDeadLetter(conn, ctx.args.stream, seq);
  const decoded = await decodeDeadLetter(resolve(ctx.cwd, ctx.values.dir), d);
  const out = { ...summary(d), ...decoded, ...(decoded.event === undefined ? { payloadBase64: Buffer.from(d.data).toString("base64") } : {}) };
  if (ctx.values.json) ctx.print(JSON.stringify(out));
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
}

/** Runs `chronicle dlq redrive`. */
export async function runDlqRedrive(ctx: DlqRedriveContext): Promise<number> {
  const stream = ctx.args.stream;
  if (ctx.values.all && ctx.args.seq !== undefined) throw new UsageError("give a <seq> or --all, not both");
  const single = ctx.values.all ? undefined : seqOf(ctx.args.seq);
  await using conn = await connectFromCli(ctx, "chronicle-dlq");
  const seqs =
    single !== undefined
      ? [single]
      : (await listDeadLetters(conn, stream, ctx.values.group !== undefined ? { group: ctx.values.group } : {})).map((d) => d.dlqSequence);
  const done: { dlqSequence: number; redriveSequence: number }[] = [];
  for (const s of seqs) done.push({ dlqSequence: s, redriveSequence: await redriveDeadLetter(conn, stream, s) });
  ctx.print(ctx.values.json ? JSON.stringify(done) : `redriven ${done.length} dead letter(s)`);
  return ExitCode.Ok;
}

/** Runs `chronicle dlq purge`. */
export async function runDlqPurge(ctx: DlqPurgeContext): Promise<number> {
  await using conn = await connectFromCli(ctx, "chronicle-dlq");
  const n = await purgeDeadLetters(conn, ctx.args.stream, ctx.values.group !== undefined ? { group: ctx.values.group } : {});
  ctx.print(ctx.values.json ? JSON.stringify({ purged: n }) : `purged ${n} dead letter(s)`);
  return ExitCode.Ok;
}
