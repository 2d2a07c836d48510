import type { IdempotencyStore } from "./types.js";

/** Options of {@link createMemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /** Forget a key this many ms after it was recorded; default never. */
  ttlMs?: number;
}

/**
 * An idempotency store in the memory of one process, for tests and for
 * handlers whose effects are themselves in memory. It does not survive a
 * restart and is not shared between members: a redelivery to another member
 * is not recognised (see docs/delivery.md).
 */
export function createMemoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): IdempotencyStore & { readonly size: number } {
  const done = new Map<string, number>();
  // ages on the monotonic clock: a wall clock stepped back or forward does not keep or drop records
  const expired = (at: number) => options.ttlMs !== undefined && performance.now() - at > options.ttlMs;
  return {
    get size() {
      return done.size;
    },
    async isDone(key) {
      const at = done.get(key);
      if (at === undefined) return false;
      if (expired(at)) {
        done.delete(key);
        return false;
      }
      return true;
    },
    async markDone(key) {
      done.set(key, performance.now());
    },
  };
}
