import type { TableNames } from "./database.js";

/**
 * DDL of the outbox, its relay lease and the inbox on SQLite. `seq` orders
 * rows (SQLite has one writer at a time, so it is commit order); `id` is
 * the dedup key (`Nats-Msg-Id`). @private
 */
export function sqliteSchema(t: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL,
      stream TEXT NOT NULL,
      subject TEXT NOT NULL,
      msg_key TEXT NOT NULL,
      slot INTEGER NOT NULL,
      headers TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t.lease} (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t.inbox} (
      consumer TEXT NOT NULL,
      key TEXT NOT NULL,
      handled_at INTEGER NOT NULL,
      PRIMARY KEY (consumer, key)
    ) WITHOUT ROWID`,
  ];
}

/**
 * The same on PostgreSQL. `seq` is an identity column; per key it follows
 * commit order because an enqueue takes a transaction-level advisory lock on
 * its key before inserting (see `pgEnqueueSql`). `slot` spreads keys over the
 * relays' advisory locks. @private
 */
export function pgSchema(t: TableNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL,
      stream TEXT NOT NULL,
      subject TEXT NOT NULL,
      msg_key TEXT NOT NULL,
      slot INTEGER NOT NULL,
      headers TEXT NOT NULL,
      payload BYTEA NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS ${t.outbox}_slot_seq ON ${t.outbox} (slot, seq)`,
    `CREATE TABLE IF NOT EXISTS ${t.inbox} (
      consumer TEXT NOT NULL,
      key TEXT NOT NULL,
      handled_at BIGINT NOT NULL,
      PRIMARY KEY (consumer, key)
    )`,
  ];
}
