import { existsSync } from "node:fs";
import { createOutbox, openOutboxDatabase, startRelay, type OutboxStatus } from "@chronicle/outbox";
import { ExitCode, UsageError, intOption, type Command } from "../framework/command.js";
import { connectFromCli, natsConnectionOptions } from "../framework/nats-connection.js";

function openDb(value: unknown) {
  if (typeof value !== "string" || value === "") throw new UsageError("--db is required: a postgres:// URL or the path of an SQLite file");
  if (!/^postgres(ql)?:\/\//.test(value) && !existsSync(value.replace(/^sqlite:(\/\/)?/, ""))) throw new UsageError(`--db ${value}: no such SQLite file`);
  return openOutboxDatabase(value, { poolSize: 2 });
}

function ageText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

const dbOption = { type: "string", valueName: "URL|PATH", description: "postgres://user@host/db, or the path of an SQLite file" } as const;
const prefixOption = { type: "string", valueName: "PREFIX", description: "Table prefix; default chronicle_" } as const;

/** `chronicle outbox`: the transactional outbox's backlog, and a relay process. */
export const outboxCommand: Command = {
  name: "outbox",
  summary: "Transactional outbox: backlog status and relay",
  subcommands: [
    {
      name: "status",
      summary: "Rows waiting in the outbox and the age of the oldest",
      description:
        "Counts the outbox rows not yet published and acknowledged, per stream, with the age of the oldest. With --max-age, exits 1 when the oldest row is older (for health checks).",
      options: {
        db: dbOption,
        json: { type: "boolean", description: "Print JSON: {pending, oldestAgeMs, streams: [{stream, pending, oldestAgeMs}]}" },
        "max-age": { type: "string", valueName: "MS", description: "Exit 1 when the oldest pending row is older than MS milliseconds" },
        "table-prefix": prefixOption,
      },
      examples: ["chronicle outbox status --db ./app.db", "chronicle outbox status --db postgres://app@db/app --json --max-age 60000"],
      async run(ctx) {
        const maxAge = intOption(ctx.values["max-age"], "max-age", 0, Number.MAX_SAFE_INTEGER);
        const opened = openDb(ctx.values["db"]);
        let status: OutboxStatus;
        try {
          const prefix = ctx.values["table-prefix"];
          status = await createOutbox(opened.db, typeof prefix === "string" ? { tablePrefix: prefix } : {}).status();
        } catch (err) {
          ctx.warn(`cannot read the outbox: ${(err as Error).message} (was migrate() run on this database?)`);
          return ExitCode.UsageError;
        } finally {
          await opened.close();
        }
        if (ctx.values["json"]) ctx.print(JSON.stringify(status));
        else {
          ctx.print(`pending ${status.pending}${status.pending > 0 ? `, oldest ${ageText(status.oldestAgeMs)}` : ""}`);
          for (const s of status.streams) ctx.print(`  ${s.stream}\t${s.pending}\t${ageText(s.oldestAgeMs)}`);
        }
        return maxAge !== undefined && status.oldestAgeMs > maxAge ? ExitCode.CheckFailed : ExitCode.Ok;
      },
    },
    {
      name: "relay",
      summary: "Run a relay: publish outbox rows to JetStream until stopped",
      description:
        "Publishes outbox rows in commit order per key with their dedup key as Nats-Msg-Id and deletes them once acknowledged. Several relays may run: on PostgreSQL they share the keys, on SQLite one holds the lease. Stops on Ctrl-C or SIGTERM.",
      options: {
        db: dbOption,
        ...natsConnectionOptions,
        "batch-size": { type: "string", valueName: "N", description: "Rows per batch; default 1000" },
        "table-prefix": prefixOption,
      },
      async run(ctx) {
        const batchSize = intOption(ctx.values["batch-size"], "batch-size", 1, 100_000);
        const opened = openDb(ctx.values["db"]);
        try {
          await using conn = await connectFromCli(ctx, "chronicle-outbox-relay");
          const prefix = ctx.values["table-prefix"];
          const outbox = createOutbox(opened.db, typeof prefix === "string" ? { tablePrefix: prefix } : {});
          await outbox.migrate();
          const relay = await startRelay(outbox, conn, { ...(batchSize ? { batchSize } : {}), onError: (err) => ctx.warn(`relay: ${(err as Error).message}`) });
          ctx.warn(`relay ${relay.owner} running on ${opened.dialect}`);
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
          await relay.stop();
          const s = relay.stats();
          ctx.warn(`relay stopped: ${s.published} published (${s.duplicates} duplicates)`);
        } finally {
          await opened.close();
        }
        return ExitCode.Ok;
      },
    },
  ],
};
