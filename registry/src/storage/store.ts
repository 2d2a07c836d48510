/**
 * The latest entry of a key: its value with the revision a compare-and-set
 * must name, or its removal (`value` undefined) with the revision of the
 * removal.
 */
export interface StoredEntry {
  value: Uint8Array | undefined;
  revision: number;
}

/** A change of one key as a watch reports it: a new value, or its removal (`value` undefined). */
export interface StoreChange {
  key: string;
  /** The new value; undefined when the key was removed. */
  value: Uint8Array | undefined;
  /** The store's revision of this change; revisions grow across the whole store. */
  revision: number;
}

/** What a {@link RegistryStore.watch} reports to. */
export interface StoreWatchListener {
  /** One change; changes arrive in revision order, with no gap in what they cover. */
  change(change: StoreChange): void;
  /** The watch stopped delivering for good (not called after `stop()`); start another one to go on. */
  ended(error?: unknown): void;
}

/** A running watch. */
export interface StoreWatch {
  /** Stops delivering changes. */
  stop(): void;
}

/**
 * What the registry keeps its state in: a key-value store with
 * compare-and-set and a watch. Keys are dot-separated tokens of
 * `[A-Za-z0-9_-]`. `createIfAbsent` and `updateIfRevision` return undefined,
 * not throw, when another writer got there first; every other failure throws
 * a {@link StoreUnavailableError}. Implementations: {@link createKvStore}
 * (JetStream KV, for servers) and {@link createMemoryStore} (tests).
 */
export interface RegistryStore {
  /**
   * The latest entry of `key`, read from the store itself (not a copy): its
   * value, or its removal; undefined when the key was never written.
   */
  get(key: string): Promise<StoredEntry | undefined>;
  /** Writes `value` only when `key` has no value; returns the new revision, or undefined when it has one. */
  createIfAbsent(key: string, value: Uint8Array): Promise<number | undefined>;
  /** Writes `value` only when `key` is still at `revision`; returns the new revision, or undefined otherwise. */
  updateIfRevision(key: string, value: Uint8Array, revision: number): Promise<number | undefined>;
  /** Writes `value` unconditionally; returns the new revision. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Removes `key` (and its history); a missing key is not an error. */
  remove(key: string): Promise<void>;
  /** The revision of the store's latest change, 0 when nothing was ever written. */
  lastRevision(): Promise<number>;
  /**
   * Reports changes to `listener`: with `afterRevision` 0, the current value
   * of every key (removed keys may be reported as removals) and then every
   * change; otherwise every change after `afterRevision`.
   */
  watch(afterRevision: number, listener: StoreWatchListener): Promise<StoreWatch>;
  /**
   * Tells `listener` when the connection to the store drops (`false`) and
   * comes back (`true`); returns a function that stops telling it. Stores
   * without a connection leave it out.
   */
  onConnectionChange?(listener: (connected: boolean) => void): () => void;
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
