import type { EventInput, EventSchemas, PublishOptions, StreamDefinition } from "@chronicle/runtime";
import {
  dialectOf,
  int4Hash,
  tableNames,
  type OutboxDatabase,
  type PgPool,
  type PgTransaction,
  type SqliteDatabase,
  type SqliteStatement,
  type TableNames,
} from "../sql/database.js";
import { migratePg, migrateSqlite } from "../sql/migrate.js";
import { encodeRow, type OutboxRow } from "./encode-row.js";

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** Prefix of the tables (`<prefix>outbox`, `<prefix>outbox_lease`, `<prefix>inbox`); default `chronicle_`. */
  tablePrefix?: string;
  /** CloudEvents `ce-source` of every event; default `/chronicle/<stream>`, like the runtime producer. */
  source?: string;
}

/** What an enqueue wrote: the row that the relay will publish once the transaction commits. */
export interface OutboxReceipt {
  /** Row sequence in the outbox (commit order per key). */
  seq: number;
  /** The dedup key (`Nats-Msg-Id`) the relay will publish with. */
  dedupKey: string;
  /** Stream and subject the relay will publish to. */
  stream: string;
  subject: string;
}

/** Rows waiting in the outbox. */
export interface OutboxStatus {
  /** Rows not yet published and acknowledged. */
  pending: number;
  /** Age of the oldest pending row, ms; 0 when there is none. */
  oldestAgeMs: number;
  /** Pending rows per stream. */
  streams: { stream: string; pending: number; oldestAgeMs: number }[];
}

/**
 * Writes events into the outbox table inside the caller's transaction. On
 * SQLite `publish` is synchronous (better-sqlite3 transactions are), on
 * PostgreSQL it returns a promise. Same arguments as the runtime's
 * `Producer.publish`, after the transaction handle.
 */
export interface OutboxProducer<E extends EventSchemas, Tx, R, RBatch> {
  /** The stream's definition. */
  readonly definition: StreamDefinition<E>;
  /** Inserts one event into the outbox through `tx`; it is published after `tx` commits, never if it rolls back. */
  publish<K extends keyof E & string>(tx: Tx, name: K, event: EventInput<E[K]>, options?: PublishOptions): R;
  /**
   * Inserts several events through `tx`, in order; on PostgreSQL in one
   * round trip (much faster than a publish per event). Receipts in input order.
   */
  publishBatch<K extends keyof E & string>(tx: Tx, items: readonly { name: K; event: EventInput<E[K]>; options?: PublishOptions }[]): RBatch;
  /**
   * The producer bound to one transaction: `publish(name, event, options)`
   * plus one `publish<Event>(event, options)` method per event type, the
   * same names as the generated typed producers (`publishOrderPlaced`).
   */
  bind(tx: Tx): BoundOutboxProducer<E, R>;
}

/** An {@link OutboxProducer} bound to one transaction, with typed per-event methods. */
export type BoundOutboxProducer<E extends EventSchemas, R> = {
  publish<K extends keyof E & string>(name: K, event: EventInput<E[K]>, options?: PublishOptions): R;
} & { [K in keyof E & string as `publish${K}`]: (event: EventInput<E[K]>, options?: PublishOptions) => R };

function bindMethods(definition: StreamDefinition, publish: (name: string, event: unknown, options?: PublishOptions) => unknown): Record<string, unknown> {
  const bound: Record<string, unknown> = { publish };
  for (const name of Object.keys(definition.events)) bound[`publish${name}`] = (event: unknown, options?: PublishOptions) => publish(name, event, options);
  return bound;
}

/** An outbox on a database: producers, schema creation, backlog status. */
export interface Outbox<Tx, R> {
  readonly dialect: "sqlite" | "postgres";
  /** The database handle given to {@link createOutbox}. */
  readonly db: OutboxDatabase;
  /** @private */
  readonly tables: TableNames;
  /** Creates the tables when missing (idempotent). Call once at start-up, or apply the DDL of docs/outbox.md yourself. */
  migrate(): Promise<void>;
  /** A producer of one stream writing into this outbox. */
  producer<E extends EventSchemas>(definition: StreamDefinition<E>): OutboxProducer<E, Tx, R, R extends Promise<infer X> ? Promise<X[]> : R[]>;
  /** Rows waiting to be published, and the age of the oldest. */
  status(): Promise<OutboxStatus>;
}

/** An outbox on SQLite: `publish(tx, ...)` takes the better-sqlite3 `Database` (inside `db.transaction(...)`) and returns at once. */
export type SqliteOutbox = Outbox<SqliteDatabase, OutboxReceipt>;
/** An outbox on PostgreSQL: `publish(tx, ...)` takes the client that ran `BEGIN`. */
export type PgOutbox = Outbox<PgTransaction, Promise<OutboxReceipt>>;

function summarise(rows: { stream: string; pending: number | string; oldest: number | string | null }[]): OutboxStatus {
  const now = Date.now();
  const streams = rows.map((r) => ({ stream: r.stream, pending: Number(r.pending), oldestAgeMs: r.oldest === null ? 0 : Math.max(0, now - Number(r.oldest)) }));
  return {
    pending: streams.reduce((s, r) => s + r.pending, 0),
    oldestAgeMs: streams.reduce((m, r) => Math.max(m, r.oldestAgeMs), 0),
    streams,
  };
}

function sqliteOutbox(db: SqliteDatabase, options: OutboxOptions): SqliteOutbox {
  const t = tableNames(options.tablePrefix);
  let insert: SqliteStatement | undefined;
  const enqueue = (tx: SqliteDatabase, row: OutboxRow): OutboxReceipt => {
    insert ??= db.prepare(`INSERT INTO ${t.outbox} (id, stream, subject, msg_key, slot, headers, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const stmt = tx === db ? insert : tx.prepare(insert.source);
    const r = stmt.run(row.id, row.stream, row.subject, row.key, row.slot, row.headers, row.payload, row.createdAt);
    return { seq: Number(r.lastInsertRowid), dedupKey: row.id, stream: row.stream, subject: row.subject };
  };
  return {
    dialect: "sqlite",
    db,
    tables: t,
    async migrate() {
      migrateSqlite(db, t);
    },
    producer<E extends EventSchemas>(definition: StreamDefinition<E>) {
      const source = options.source ?? `/chronicle/${definition.settings.name}`;
      const publish = (tx: SqliteDatabase, name: string, event: unknown, o?: PublishOptions) => enqueue(tx, encodeRow(definition, source, name, event, o));
      return {
        definition,
        publish,
        publishBatch: (tx: SqliteDatabase, items: readonly { name: string; event: unknown; options?: PublishOptions }[]) =>
          items.map((it) => publish(tx, it.name, it.event, it.options)),
        bind: (tx: SqliteDatabase) => bindMethods(definition, (name, event, o) => publish(tx, name, event, o)),
      } as OutboxProducer<E, SqliteDatabase, OutboxReceipt, OutboxReceipt[]>;
    },
    async status() {
      const rows = db.prepare(`SELECT stream, count(*) AS pending, min(created_at) AS oldest FROM ${t.outbox} GROUP BY stream ORDER BY stream`).all() as {
        stream: string;
        pending: number;
        oldest: number | null;
      }[];
      return summarise(rows);
    },
  };
}

/**
 * The enqueue statement on PostgreSQL. The transaction-level advisory lock on
 * the key (held until commit or rollback) makes transactions that write the
 * same key take their sequence numbers one after the other, so `seq` order
 * per key is commit order, and a relay never sees a later row of a key
 * committed while an earlier one is still in flight.
 */
function pgEnqueueSql(t: TableNames): string {
  return `WITH l AS (SELECT pg_advisory_xact_lock($9::int, $10::int))
    INSERT INTO ${t.outbox} (id, stream, subject, msg_key, slot, headers, payload, created_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM l RETURNING seq`;
}

/**
 * Many rows in one statement: the key locks are taken in ascending order (so
 * two batches never deadlock on each other), then the rows are inserted in
 * input order, so their `seq` follow it.
 */
function pgEnqueueManySql(t: TableNames): string {
  return `WITH l AS (SELECT count(pg_advisory_xact_lock($1::int, k)) AS n FROM unnest($2::int[]) AS k)
    INSERT INTO ${t.outbox} (id, stream, subject, msg_key, slot, headers, payload, created_at)
    SELECT r.id, r.stream, r.subject, r.msg_key, r.slot, r.headers, r.payload, r.created_at
    FROM l, unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::bytea[], $10::bigint[])
      WITH ORDINALITY AS r(id, stream, subject, msg_key, slot, headers, payload, created_at, o)
    ORDER BY r.o RETURNING seq`;
}

function pgOutbox(pool: PgPool, options: OutboxOptions): PgOutbox {
  const t = tableNames(options.tablePrefix);
  const sql = pgEnqueueSql(t);
  const keyLockClass = int4Hash(`${t.outbox} key`);
  const enqueue = async (tx: PgTransaction, row: OutboxRow): Promise<OutboxReceipt> => {
    const r = await tx.query<{ seq: string }>({
      name: `${t.outbox}_enqueue`,
      text: sql,
      values: [
        row.id,
        row.stream,
        row.subject,
        row.key,
        row.slot,
        row.headers,
        Buffer.from(row.payload),
        row.createdAt,
        keyLockClass,
        int4Hash(`${row.stream}\n${row.key}`),
      ],
    });
    return { seq: Number(r.rows[0]!.seq), dedupKey: row.id, stream: row.stream, subject: row.subject };
  };
  const many = pgEnqueueManySql(t);
  const enqueueMany = async (tx: PgTransaction, rows: OutboxRow[]): Promise<OutboxReceipt[]> => {
    if (rows.length === 0) return [];
    const col = <T>(f: (r: OutboxRow) => T) => rows.map(f);
    const locks = [...new Set(rows.map((r) => int4Hash(`${r.stream}\n${r.key}`)))].sort((a, b) => a - b);
    const r = await tx.query<{ seq: string }>({
      name: `${t.outbox}_enqueue_many`,
      text: many,
      values: [
        keyLockClass,
        locks,
        col((x) => x.id),
        col((x) => x.stream),
        col((x) => x.subject),
        col((x) => x.key),
        col((x) => x.slot),
        col((x) => x.headers),
        col((x) => Buffer.from(x.payload)),
        col((x) => x.createdAt),
      ],
    });
    const seqs = r.rows.map((x) => Number(x.seq)).sort((a, b) => a - b);
    return rows.map((row, i) => ({ seq: seqs[i]!, dedupKey: row.id, stream: row.stream, subject: row.subject }));
  };
  return {
    dialect: "postgres",
    db: pool,
    tables: t,
    migrate: () => migratePg(pool, t),
    producer<E extends EventSchemas>(definition: StreamDefinition<E>) {
      const source = options.source ?? `/chronicle/${definition.settings.name}`;
      const publish = async (tx: PgTransaction, name: string, event: unknown, o?: PublishOptions) => enqueue(tx, encodeRow(definition, source, name, event, o));
      return {
        definition,
        publish,
        publishBatch: async (tx: PgTransaction, items: readonly { name: string; event: unknown; options?: PublishOptions }[]) =>
          enqueueMany(
            tx,
            items.map((it) => encodeRow(definition, source, it.name, it.event, it.options)),
          ),
        bind: (tx: PgTransaction) => bindMethods(definition, (name, event, o) => publish(tx, name, event, o)),
      } as OutboxProducer<E, PgTransaction, Promise<OutboxReceipt>, Promise<OutboxReceipt[]>>;
    },
    async status() {
      const r = await pool.query<{ stream: string; pending: string; oldest: string | null }>(
        `SELECT stream, count(*) AS pending, min(created_at) AS oldest FROM ${t.outbox} GROUP BY stream ORDER BY stream`,
      );
      return summarise(r.rows);
    },
  };
}

/**
 * Creates a transactional outbox on a better-sqlite3 `Database` (embedded
 * default) or a `pg` `Pool` (production). Events written with
 * `outbox.producer(def).publish(tx, ...)` land in the outbox table inside
 * the caller's transaction, so they exist exactly when the business write
 * commits; a relay ({@link startRelay}) publishes them to JetStream
 * afterwards, in commit order per key, with the row's dedup key as
 * `Nats-Msg-Id`. Call `migrate()` once to create the tables.
 */
export function createOutbox(db: SqliteDatabase, options?: OutboxOptions): SqliteOutbox;
export function createOutbox(db: PgPool, options?: OutboxOptions): PgOutbox;
export function createOutbox(db: OutboxDatabase, options?: OutboxOptions): SqliteOutbox | PgOutbox;
export function createOutbox(db: OutboxDatabase, options: OutboxOptions = {}): SqliteOutbox | PgOutbox {
  return dialectOf(db) === "sqlite" ? sqliteOutbox(db as SqliteDatabase, options) : pgOutbox(db as PgPool, options);
}
