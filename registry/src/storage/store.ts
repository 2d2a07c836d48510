/** One stored value with the revision a compare-and-set must name. */
export interface StoredEntry {
  value: Uint8Array;
  revision: number;
}

/**
 * What the registry keeps its state in: a key-value store with
 * compare-and-set. Keys are dot-separated tokens of `[A-Za-z0-9_-]`.
 * `createIfAbsent` and `updateIfRevision` return false, not throw, when
 * another writer got there first; every other failure throws a
 * {@link StoreUnavailableError}. Implementations: {@link createKvStore}
 * (JetStream KV, for servers) and {@link createMemoryStore} (tests).
 */
export interface RegistryStore {
  get(key: string): Promise<StoredEntry | undefined>;
  /** Writes `value` only when `key` has no value; returns false when it has one. */
  createIfAbsent(key: string, value: Uint8Array): Promise<boolean>;
  /** Writes `value` only when `key` is still at `revision`; returns false otherwise. */
  updateIfRevision(key: string, value: Uint8Array, revision: number): Promise<boolean>;
  /** Writes `value` unconditionally. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Removes `key` (and its history); a missing key is not an error. */
  remove(key: string): Promise<void>;
  /** Every key that starts with `prefix` followed by a dot. */
  keys(prefix: string): Promise<string[]>;
}

/**
 * The store could not be reached or answered with an error. The service
 * turns it into Connect's `unavailable`.
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
