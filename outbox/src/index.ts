// @chronicle/outbox: the public API. Transactional outbox and inbox on SQL
// (SQLite embedded, PostgreSQL for production); see docs/outbox.md.

// Outbox: events written in the caller's transaction
export {
  createOutbox,
  type Outbox,
  type SqliteOutbox,
  type PgOutbox,
  type OutboxOptions,
  type OutboxProducer,
  type BoundOutboxProducer,
  type OutboxReceipt,
  type OutboxStatus,
} from "./outbox/create-outbox.js";

// Relay: outbox rows to JetStream, in commit order per key, deduplicated
export { startRelay, type Relay, type RelayOptions, type RelayStats } from "./relay/start-relay.js";

// Inbox: idempotency records in the handler's transaction
export {
  createInbox,
  withInbox,
  type Inbox,
  type SqliteInbox,
  type PgInbox,
  type InboxOptions,
  type SqliteInboxHandler,
  type PgInboxHandler,
  type SqlIdempotencyStore,
} from "./inbox/create-inbox.js";

// Databases
export type { SqliteDatabase, PgPool, PgTransaction, OutboxDatabase } from "./sql/database.js";
export { openOutboxDatabase, type OpenedDatabase } from "./sql/open.js";
