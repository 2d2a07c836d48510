import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";

/** A better-sqlite3 connection (`new Database(path)`): the embedded default. */
export type SqliteDatabase = BetterSqlite3.Database;

/** A `pg` pool: the production database. The relay and the inbox check clients out of it. */
export type PgPool = pg.Pool;

/**
 * The transaction handle of PostgreSQL: the client on which the caller ran
 * `BEGIN` (a `PoolClient` from `pool.connect()`, or a `Client`).
 */
export type PgTransaction = pg.ClientBase;

/** Either database Chronicle's outbox and inbox run on. */
export type OutboxDatabase = SqliteDatabase | PgPool;

/** Which database a handle is. @private */
export function dialectOf(db: unknown): "sqlite" | "postgres" {
  const d = db as Record<string, unknown> | null;
  if (d && typeof d["prepare"] === "function" && typeof d["pragma"] === "function") return "sqlite";
  if (d && typeof d["query"] === "function" && typeof d["connect"] === "function") return "postgres";
  throw new ChronicleError(ErrorCode.InvalidArgument, "expected a better-sqlite3 Database or a pg Pool");
}

/** Table names, all sharing one prefix. */
export interface TableNames {
  readonly outbox: string;
  readonly lease: string;
  readonly inbox: string;
}

const PREFIX = /^[a-z_][a-z0-9_]{0,40}$/;

/** Table names for a prefix (default `chronicle_`). @private */
export function tableNames(prefix = "chronicle_"): TableNames {
  if (!PREFIX.test(prefix)) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `table prefix ${JSON.stringify(prefix)} must match [a-z_][a-z0-9_]*`, {
      context: { option: "tablePrefix" },
    });
  }
  return { outbox: `${prefix}outbox`, lease: `${prefix}outbox_lease`, inbox: `${prefix}inbox` };
}

/** 32-bit FNV-1a of a string's UTF-8 bytes, as a signed int4 (PostgreSQL advisory lock keys). @private */
export function int4Hash(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h | 0;
}

/** Opens SQLite the way the outbox wants it: WAL, NORMAL sync, a busy timeout for other processes. @private */
export function tuneSqlite(db: SqliteDatabase, busyTimeoutMs: number): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
}

/** A prepared better-sqlite3 statement. @private */
export type SqliteStatement = BetterSqlite3.Statement<unknown[], unknown>;
