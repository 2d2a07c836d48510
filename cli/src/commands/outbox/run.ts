import { existsSync } from "node:fs";
import { createOutbox, openOutboxDatabase, startRelay, type OpenedDatabase, type OutboxStatus } from "@chronicle/outbox";
import { ExitCode, UsageError } from "../../framework/command.js";
import { connectFromCli } from "../../framework/nats-connection.js";
import type { OutboxMigrateContext, OutboxRelayContext, OutboxStatusContext } from "./spec.js";

/** Opens `--db`; an SQLite file must exist unless `create` (migrate makes it). */
function openDb(value: string | undefined, create = false): OpenedDatabase {
  if (value === undefined || value === "") throw new UsageError("--db is required: a postgres:// URL or the path of an SQLite file");
  const postgres = /^postgres(ql)?:\/\//.test(value);
  if (!postgres && !create && !existsSync(value.replace(/^sqlite:(\/\/)?/, ""))) {
    throw new UsageError(`--db ${value}: no such SQLite file (create its tables with "chronicle outbox migrate --db ${value}")`);
  }
  return openOutboxDatabase(value, { poolSize: 2 });
}

function ageText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Runs `chronicle outbox migrate`. */
export async function runOutboxMigrate(ctx: OutboxMigrateContext): Promise<number> {
  const opened = openDb(ctx.values.db, true);
  try {
    await createOutbox(opened.db, { tablePrefix: ctx.values["table-prefix"] }).migrate();
  } finally {
    await opened.close();
  }
  ctx.print(`outbox, relay-lease and inbox tables (prefix ${ctx.values["table-prefix"]}) are in place on ${opened.dialect}`);
  return ExitCode.Ok;
}

/** Runs `chronicle outbox status`. */
export async function runOutboxStatus(ctx: OutboxStatusContext): Promise<number> {
  const maxAge = ctx.values["max-age"];
  const opened = openDb(ctx.values.db);
  let status: OutboxStatus;
  try {
    status = await createOutbox(opened.db, { tablePrefix: ctx.values["table-prefix"] }).status();
  } catch (err) {
    throw new UsageError(`cannot read the outbox: ${(err as Error).message} (create its tables with "chronicle outbox migrate")`);
  } finally {
    await opened.close();
  }
  if (ctx.values.json) ctx.print(JSON.stringify(status));
  else {
    ctx.print(`pending ${status.pending}${status.pending > 0 ? `, oldest ${ageText(status.oldestAgeMs)}` : ""}`);
    for (const s of status.streams) ctx.print(`  ${s.stream}\t${s.pending}\t${ageText(s.oldestAgeMs)}`);
  }
  return maxAge !== undefined && status.oldestAgeMs > maxAge ? ExitCode.CheckFailed : ExitCode.Ok;
}

/** Runs `chronicle outbox relay` until Ctrl-C. */
export async function runOutboxRelay(ctx: OutboxRelayContext): Promise<number> {
  const batchSize = ctx.values["batch-size"];
  const opened = openDb(ctx.values.db);
  try {
    await using conn = await connectFromCli(ctx, "chronicle-outbox-relay");
    const outbox = createOutbox(opened.db, { tablePrefix: ctx.values["table-prefix"] });
    await outbox.migrate();
    const relay = await startRelay(outbox, conn, { ...(batchSize ? { batchSize } : {}), onError: (err) => ctx.warn(`relay: ${(err as Error).message}`) });
    ctx.warn(`relay ${relay.owner} running on ${opened.dialect}`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await relay.stop();
    const s = relay.stats();
    ctx.warn(`relay stopped: ${s.published} published (${s.duplicates} duplicates)`);
  } finally {
    await opened.close();
  }
  return ExitCode.Ok;
}
