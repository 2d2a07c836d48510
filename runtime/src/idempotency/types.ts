import { createHash } from "node:crypto";

/**
 * Remembers which events a consumer group has fully handled, so that a
 * redelivery (a crash before the ack, a failover, a pin that moved while a
 * message was in flight) does not run the handler's effects twice.
 *
 * Keys are opaque strings chosen by the runtime (group, rewind epoch and the
 * event's idempotency key); a store only has to answer `isDone` and remember
 * `markDone`. See docs/delivery.md for what each store guarantees.
 *
 * The runtime calls `isDone` for every delivery as it arrives, so a store
 * sees many lookups (and records) in flight at once: one that can answer
 * them in batches, as the KV store does, should.
 */
export interface IdempotencyStore {
  /** True when `markDone(key)` was recorded and has not expired. */
  isDone(key: string): Promise<boolean>;
  /** Records that the event with this key has been handled. Resolves once durable for this store. */
  markDone(key: string): Promise<void>;
  /** Releases resources (watchers, timers). The runtime never closes a store it did not create. */
  close?(): Promise<void>;
}

const PLAIN = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * Turns any idempotency key into characters a KV key accepts: a key of
 * `[A-Za-z0-9_-]` stays as it is; any other becomes `=` and the base64url of
 * its SHA-256 (plain keys never contain `=`, so the forms never collide).
 * @private
 */
export function safeStoreKey(key: string): string {
  if (PLAIN.test(key)) return key;
  return `=${createHash("sha256").update(key, "utf8").digest("base64url")}`;
}
