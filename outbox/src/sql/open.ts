import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { tuneSqlite, type OutboxDatabase } from "./database.js";
import { loadDriver } from "./drivers.js";

/** A database opened from a URL or a path, with a way to close it. */
export interface OpenedDatabase {
  readonly db: OutboxDatabase;
  readonly dialect: "sqlite" | "postgres";
  close(): Promise<void>;
}

/**
 * Opens `postgres://...` / `postgresql://...` as a `pg` pool, and anything
 * else (a path, or `sqlite:path`) as a better-sqlite3 database in WAL mode
 * with a busy timeout (so a relay and writers in other processes wait for
 * each other instead of failing). Used by `chronicle outbox` and handy for
 * services. The driver (`pg` or `better-sqlite3`, optional peer
 * dependencies) must be installed.
 */
export function openOutboxDatabase(urlOrPath: string, options: { busyTimeoutMs?: number; poolSize?: number } = {}): OpenedDatabase {
  if (/^postgres(ql)?:\/\//.test(urlOrPath)) {
    const { Pool } = loadDriver<typeof pg>("pg", "a PostgreSQL URL");
    const pool = new Pool({ connectionString: urlOrPath, max: options.poolSize ?? 10 });
    return { db: pool, dialect: "postgres", close: () => pool.end() };
  }
  const Database = loadDriver<typeof BetterSqlite3>("better-sqlite3", "an SQLite database");
  const db = new Database(urlOrPath.replace(/^sqlite:(\/\/)?/, ""));
  tuneSqlite(db, options.busyTimeoutMs ?? 10_000);
  return { db, dialect: "sqlite", close: async () => void db.close() };
}
