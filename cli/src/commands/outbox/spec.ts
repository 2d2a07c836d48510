import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { natsConnectionOptions } from "../../framework/common-options.js";

const dbOptions = {
  db: { type: "string", valueName: "URL|PATH", description: "postgres://user@host/db, or the path of an SQLite file (required)" },
  "table-prefix": { type: "string", valueName: "PREFIX", description: "Table prefix", default: "chronicle_" },
} as const;

const migrateCommand = defineCommand({
  name: "migrate",
  summary: "Create the outbox, relay-lease and inbox tables when missing",
  description:
    "Creates the tables of the transactional outbox and the SQL inbox in the database (an SQLite file is created when missing). Idempotent; on PostgreSQL concurrent runs wait for each other. Services can call outbox.migrate() instead; this is for deploy pipelines that create tables before services start.",
  options: dbOptions,
  examples: ["chronicle outbox migrate --db ./app.db", "chronicle outbox migrate --db postgres://app@db/app"],
  load: async () => (await import("./run.js")).runOutboxMigrate,
});

const statusOptions = {
  ...dbOptions,
  json: { type: "boolean", description: "Print JSON: {pending, oldestAgeMs, streams: [{stream, pending, oldestAgeMs}]}" },
  "max-age": {
    type: "integer",
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    valueName: "MS",
    description: "Exit 1 when the oldest pending row is older than MS milliseconds",
  },
} as const satisfies OptionSpecs;

const statusCommand = defineCommand({
  name: "status",
  summary: "Rows waiting in the outbox and the age of the oldest",
  description:
    "Counts the outbox rows not yet published and acknowledged, per stream, with the age of the oldest. With --max-age, exits 1 when the oldest row is older (for health checks).",
  options: statusOptions,
  examples: ["chronicle outbox status --db ./app.db", "chronicle outbox status --db postgres://app@db/app --json --max-age 60000"],
  load: async () => (await import("./run.js")).runOutboxStatus,
});

const relayOptions = {
  ...dbOptions,
  ...natsConnectionOptions,
  "batch-size": { type: "integer", min: 1, max: 100_000, valueName: "N", description: "Rows per batch, up to 100000 (default 2000)" },
} as const satisfies OptionSpecs;

const relayCommand = defineCommand({
  name: "relay",
  summary: "Run a relay: publish outbox rows to JetStream until stopped",
  description:
    "Publishes outbox rows in commit order per key with their dedup key as Nats-Msg-Id and deletes them once acknowledged. Several relays may run: on PostgreSQL they share the keys, on SQLite one holds the lease. Creates the tables when missing. Stops on Ctrl-C or SIGTERM.",
  options: relayOptions,
  load: async () => (await import("./run.js")).runOutboxRelay,
});

/** What `chronicle outbox migrate` receives. */
export type OutboxMigrateContext = CommandContext<typeof dbOptions>;
/** What `chronicle outbox status` receives. */
export type OutboxStatusContext = CommandContext<typeof statusOptions>;
/** What `chronicle outbox relay` receives. */
export type OutboxRelayContext = CommandContext<typeof relayOptions>;

/** `chronicle outbox`: the transactional outbox's tables, backlog and relay. */
export const outboxCommand = defineCommand({
  name: "outbox",
  summary: "Transactional outbox: create its tables, backlog status and relay",
  subcommands: [migrateCommand, statusCommand, relayCommand],
});
