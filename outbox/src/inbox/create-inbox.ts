import { ChronicleError, ErrorCode, type EventContext, type EventHandler, type IdempotencyStore } from "@chronicle/runtime";
import {
  dialectOf,
  tableNames,
  type OutboxDatabase,
  type PgPool,
  type PgTransaction,
  type SqliteDatabase,
  type SqliteStatement,
  type TableNames,
} from "../sql/database.js";
import { migratePg, migrateSqlite } from "../sql/migrate.js";

/** The runtime's `IdempotencyStore`, implemented on the inbox table by {@link Inbox.store}. */
export type SqlIdempotencyStore = IdempotencyStore;

/** Options of {@link createInbox}. */
export interface InboxOptions {
  /**
   * Name under which this consumer's handled events are recorded, usually
   * the consumer group's name. Two consumers of the same events with
   * different names each handle every event once.
   */
  consumer: string;
  /** Table prefix, as for the outbox; default `chronicle_`. */
  tablePrefix?: string;
}

/** What a wrapped handler is given on SQLite: the user's code runs synchronously inside an immediate transaction. */
export type SqliteInboxHandler<M> = (event: M, ctx: EventContext, tx: SqliteDatabase) => void;
/** What a wrapped handler is given on PostgreSQL: the client of the open transaction. */
export type PgInboxHandler<M> = (event: M, ctx: EventContext, tx: PgTransaction) => Promise<void>;

/**
 * An inbox: idempotency records in the same SQL transaction as a handler's
 * business writes, so that a crash at any point leaves both or neither.
 */
export interface Inbox<H extends (event: never, ctx: EventContext, tx: never) => unknown> {
  readonly dialect: "sqlite" | "postgres";
  readonly consumer: string;
  /** @private */
  readonly tables: TableNames;
  /** Creates the inbox table when missing (the same as the outbox's `migrate`). */
  migrate(): Promise<void>;
  /**
   * Wraps a handler: in one transaction, record `(consumer, ctx.idempotencyKey)`
   * and run the handler with the transaction handle; when the record exists
   * already, commit nothing and return (the event was handled before). A
   * throwing handler rolls both back, and the runtime retries the event.
   */
  handler<M>(fn: H extends (event: never, ctx: EventContext, tx: infer T) => infer R ? (event: M, ctx: EventContext, tx: T) => R : never): EventHandler<M>;
  /** True when the event with this idempotency key was handled by this consumer. */
  handled(idempotencyKey: string): Promise<boolean>;
  /**
   * An idempotency store for the runtime on the same table (keys under
   * `<consumer>/store`). Its record commits in its own transaction after the
   * handler, like the KV store: use it for handlers that do not write this
   * database; wrap the ones that do with {@link Inbox.handler}.
   */
  store(): SqlIdempotencyStore;
  /** Deletes records older than `ms`; returns how many. Events redelivered after that would run again. */
  prune(olderThanMs: number): Promise<number>;
}

/** The inbox on SQLite. */
export type SqliteInbox = Inbox<SqliteInboxHandler<never>>;
/** The inbox on PostgreSQL. */
export type PgInbox = Inbox<PgInboxHandler<never>>;

function checkConsumer(consumer: string): void {
  if (typeof consumer !== "string" || consumer.length === 0 || consumer.length > 200) {
    throw new ChronicleError(ErrorCode.InvalidArgument, "inbox consumer must be a name of 1-200 characters", { context: { option: "consumer" } });
  }
}

function sqliteInbox(db: SqliteDatabase, options: InboxOptions): SqliteInbox {
  const t = tableNames(options.tablePrefix);
  const consumer = options.consumer;
  const storeConsumer = `${consumer}/store`;
  let stmts: { record: SqliteStatement; get: SqliteStatement } | undefined;
  const s = () =>
    (stmts ??= {
      record: db.prepare(`INSERT INTO ${t.inbox} (consumer, key, handled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      get: db.prepare(`SELECT 1 FROM ${t.inbox} WHERE consumer = ? AND key = ?`),
    });
  return {
    dialect: "sqlite",
    consumer,
    tables: t,
    async migrate() {
      migrateSqlite(db, t);
    },
    handler<M>(fn: SqliteInboxHandler<M>): EventHandler<M> {
      const run = db.transaction((event: M, ctx: EventContext) => {
        if (s().record.run(consumer, ctx.idempotencyKey, Date.now()).changes === 0) return;
        const r = fn(event, ctx, db) as unknown;
        if (r instanceof Promise) {
          void r.catch(() => undefined);
          throw new ChronicleError(ErrorCode.InvalidArgument, "an SQLite inbox handler must be synchronous: better-sqlite3 commits when the function returns", {
            context: { stream: ctx.stream, sequence: ctx.sequence },
          });
        }
      });
      return async (event, ctx) => {
        run.immediate(event, ctx);
      };
    },
    async handled(key) {
      return s().get.get(consumer, key) !== undefined;
    },
    store() {
      return {
        async isDone(key) {
          return s().get.get(storeConsumer, key) !== undefined;
        },
        async markDone(key) {
          s().record.run(storeConsumer, key, Date.now());
        },
      };
    },
    async prune(olderThanMs) {
      return db.prepare(`DELETE FROM ${t.inbox} WHERE (consumer = ? OR consumer = ?) AND handled_at < ?`).run(consumer, storeConsumer, Date.now() - olderThanMs)
        .changes;
    },
  };
}

function pgInbox(pool: PgPool, options: InboxOptions, migrate: () => Promise<void>): PgInbox {
  const t = tableNames(options.tablePrefix);
  const consumer = options.consumer;
  const storeConsumer = `${consumer}/store`;
  const record = `INSERT INTO ${t.inbox} (consumer, key, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;
  const get = `SELECT 1 FROM ${t.inbox} WHERE consumer = $1 AND key = $2`;
  return {
    dialect: "postgres",
    consumer,
    tables: t,
    migrate,
    handler<M>(fn: PgInboxHandler<M>): EventHandler<M> {
      return async (event, ctx) => {
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
          await client.query("BEGIN");
          // A concurrent delivery of the same event waits here until this
          // transaction ends, then finds the record (or takes over after a rollback).
          const r = await client.query({ name: `${t.inbox}_record`, text: record, values: [consumer, ctx.idempotencyKey, Date.now()] });
          if (r.rowCount === 0) {
            await client.query("ROLLBACK");
            return;
          }
          await fn(event, ctx, client);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch((e: Error) => (broken = e));
          throw err;
        } finally {
          client.release(broken);
        }
      };
    },
    async handled(key) {
      return ((await pool.query(get, [consumer, key])).rowCount ?? 0) > 0;
    },
    store() {
      return {
        async isDone(key) {
          return ((await pool.query(get, [storeConsumer, key])).rowCount ?? 0) > 0;
        },
        async markDone(key) {
          await pool.query(record, [storeConsumer, key, Date.now()]);
        },
      };
    },
    async prune(olderThanMs) {
      const r = await pool.query(`DELETE FROM ${t.inbox} WHERE consumer = ANY($1::text[]) AND handled_at < $2`, [
        [consumer, storeConsumer],
        Date.now() - olderThanMs,
      ]);
      return r.rowCount ?? 0;
    },
  };
}

/**
 * Creates an inbox on a better-sqlite3 `Database` or a `pg` `Pool`: wrap a
 * consumer's handlers with `inbox.handler((event, ctx, tx) => ...)` and the
 * idempotency record commits in the same transaction as the handler's
 * writes through `tx`, which makes those effects happen exactly once however
 * often the event is delivered. {@link withInbox} is the same as a function.
 */
export function createInbox(db: SqliteDatabase, options: InboxOptions): SqliteInbox;
export function createInbox(db: PgPool, options: InboxOptions): PgInbox;
export function createInbox(db: OutboxDatabase, options: InboxOptions): SqliteInbox | PgInbox {
  checkConsumer(options.consumer);
  if (dialectOf(db) === "sqlite") return sqliteInbox(db as SqliteDatabase, options);
  const t = tableNames(options.tablePrefix);
  const pool = db as PgPool;
  return pgInbox(pool, options, () => migratePg(pool, t));
}

/** `inbox.handler(fn)` as a function: `handlers: { OrderPlaced: withInbox(inbox, async (event, ctx, tx) => ...) }`. */
export function withInbox<M>(inbox: SqliteInbox, fn: SqliteInboxHandler<M>): EventHandler<M>;
export function withInbox<M>(inbox: PgInbox, fn: PgInboxHandler<M>): EventHandler<M>;
export function withInbox<M>(inbox: SqliteInbox | PgInbox, fn: SqliteInboxHandler<M> | PgInboxHandler<M>): EventHandler<M> {
  return (inbox as Inbox<(e: never, c: EventContext, tx: unknown) => unknown>).handler<M>(fn as never);
}
