import { RegistryState } from "./registry-state.js";
import { StoreUnavailableError, type RegistryStore, type StoreChange, type StoreWatch } from "./store.js";

/** Options of {@link RegistryReplica.open}. */
export interface RegistryReplicaOptions {
  /**
   * How often the copy is checked against the store's latest revision, in
   * milliseconds. A copy not confirmed for three intervals reports itself
   * stale; a watch behind the store for two intervals is started again.
   * @default 1000
   */
  checkIntervalMs?: number;
  /**
   * How long the first load of the whole bucket may take, in milliseconds.
   * @default 30000
   */
  loadTimeoutMs?: number;
  /** Where it reports a watch started again or a value that does not decode. */
  log?: (line: string) => void;
}

/** A check of the copy: at `at` (ms since the epoch) the store's latest revision was `revision`. */
interface Check {
  at: number;
  revision: number;
}

/** Most unsettled checks kept while the watch is behind (the oldest is kept, for stall detection). */
const MAX_CHECKS = 64;
const MAX_RESTART_DELAY_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * A registry server's in-memory copy of the bucket, kept current by a watch,
 * and the path of the server's own writes. Reads come from
 * {@link RegistryReplica.state} and never wait for the store; a write goes to
 * the store (compare-and-set where the caller asks for it) and is applied to
 * the copy as soon as the store accepts it, so the server reads its own
 * writes at once; other servers see it when their watch delivers it.
 *
 * Freshness: every `checkIntervalMs` the replica asks the store for its
 * latest revision; once the watch has delivered that revision, every write
 * made before the question is in the copy. {@link RegistryReplica.staleness}
 * says how old that guarantee is whenever the copy is not known current
 * (connection down, watch restarting, checks failing or behind). A watch
 * that ends, lags two intervals, or outlives a reconnection is started
 * again from the last revision it delivered.
 */
export class RegistryReplica {
  /** The copy, decoded. */
  readonly state = new RegistryState();

  private readonly checkIntervalMs: number;
  private readonly log: (line: string) => void;
  private watchedRevision = 0;
  private verifiedAt = 0;
  private connected = true;
  private watch: StoreWatch | undefined;
  private watchGeneration = 0;
  private watchStartedAt = 0;
  private restarting: Promise<void> | undefined;
  private readonly checks: Check[] = [];
  private checking = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private stopConnectionListener: (() => void) | undefined;
  private onVerified: (() => void) | undefined;
  private readonly waiters: Array<{ revision: number; resolve: (caughtUp: boolean) => void }> = [];
  private onLoadFailed: ((err: unknown) => void) | undefined;

  private constructor(
    private readonly store: RegistryStore,
    options: RegistryReplicaOptions,
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.log = options.log ?? (() => {});
  }

  /**
   * Loads the whole bucket and starts watching it. Resolves once the copy
   * holds every write made before the call; rejects with a
   * {@link StoreUnavailableError} when the store cannot be read.
   */
  static async open(store: RegistryStore, options: RegistryReplicaOptions = {}): Promise<RegistryReplica> {
    const replica = new RegistryReplica(store, options);
    await replica.load(options.loadTimeoutMs ?? 30_000);
    return replica;
  }

  private async load(timeoutMs: number): Promise<void> {
    const verified = new Promise<void>((resolve, reject) => {
      this.onVerified = resolve;
      this.onLoadFailed = reject;
    });
    let timeout: NodeJS.Timeout | undefined;
    try {
      this.checks.push({ at: Date.now(), revision: await this.store.lastRevision() });
      this.watch = await this.store.watch(0, this.listener(++this.watchGeneration));
      this.watchStartedAt = Date.now();
      this.settle();
      await Promise.race([
        verified,
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new StoreUnavailableError(`registry storage: the first load did not finish within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      this.close();
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`registry storage: the first load failed: ${String(err)}`, { cause: err });
    } finally {
      clearTimeout(timeout);
      this.onVerified = this.onLoadFailed = undefined;
    }
    this.timer = setInterval(() => void this.check(), this.checkIntervalMs).unref();
    this.stopConnectionListener = this.store.onConnectionChange?.((connected) => {
      this.connected = connected;
      // the watch's consumer may not have survived the outage (a restarted server forgets it)
      if (connected) void this.restartWatch("the connection came back");
    });
  }

  /**
   * How many milliseconds the copy may be behind the store, or undefined
   * while it is known current (connected, watching, and confirmed within
   * three check intervals). The figure is the time since the copy was last
   * confirmed to hold every write.
   */
  staleness(now = Date.now()): number | undefined {
    if (this.connected && this.watch && now - this.verifiedAt <= 3 * this.checkIntervalMs) return undefined;
    return Math.max(0, now - this.verifiedAt);
  }

  /** Writes `value` if `key` has none; false when it has one. The copy holds the write when it returns. */
  async create(key: string, value: Uint8Array): Promise<boolean> {
    return this.applyOwn(key, value, await this.store.createIfAbsent(key, value));
  }

  /** Writes `value` if `key` is still at `revision`; false when it is not. The copy holds the write when it returns. */
  async update(key: string, value: Uint8Array, revision: number): Promise<boolean> {
    return this.applyOwn(key, value, await this.store.updateIfRevision(key, value, revision));
  }

  /** Writes `value` unconditionally. The copy holds the write when it returns. */
  async put(key: string, value: Uint8Array): Promise<void> {
    this.applyOwn(key, value, await this.store.put(key, value));
  }

  /**
   * Removes `key`. The copy no longer holds it when it returns: the store's
   * record of the removal is read back, so that an older write the watch
   * has yet to deliver cannot bring the key back.
   */
  async remove(key: string): Promise<void> {
    await this.store.remove(key);
    await this.refresh(key);
  }

  /**
   * Reads `key` from the store itself into the copy (after a lost
   * compare-and-set, the copy may not yet hold the write that won); returns
   * whether the store holds a value.
   */
  async refresh(key: string): Promise<boolean> {
    const e = await this.store.get(key);
    if (e) this.apply({ key, value: e.value, revision: e.revision });
    else this.state.forget(key);
    return e?.value !== undefined;
  }

  /**
   * Waits until the copy holds every write the store had accepted when it
   * was called; false when that takes longer than `timeoutMs` or the store
   * cannot be asked. For decisions that must not miss another server's
   * recent write.
   */
  async catchUp(timeoutMs = 5000): Promise<boolean> {
    let revision: number;
    try {
      revision = await this.store.lastRevision();
    } catch {
      return false;
    }
    if (revision <= this.watchedRevision) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs).unref();
      this.waiters.push({
        revision,
        resolve: (caughtUp) => {
          clearTimeout(timer);
          resolve(caughtUp);
        },
      });
    });
  }

  /** Stops watching and checking. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    clearInterval(this.timer);
    this.stopConnectionListener?.();
    this.watch?.stop();
    this.watch = undefined;
  }

  private applyOwn(key: string, value: Uint8Array, revision: number | undefined): boolean {
    if (revision === undefined) return false;
    this.apply({ key, value, revision });
    return true;
  }

  private apply(change: StoreChange): void {
    try {
      this.state.apply(change);
    } catch (err) {
      this.log(`registry: ${change.key} at revision ${change.revision} does not decode and is left out: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private listener(generation: number) {
    return {
      change: (change: StoreChange) => {
        if (generation !== this.watchGeneration) return;
        if (change.revision > this.watchedRevision) this.watchedRevision = change.revision;
        this.apply(change);
        this.settle();
      },
      ended: (err?: unknown) => {
        if (generation !== this.watchGeneration) return;
        this.watch = undefined;
        if (this.onLoadFailed) this.onLoadFailed(new StoreUnavailableError(`registry storage: the watch ended during the first load: ${String(err)}`));
        else void this.restartWatch(`the watch ended${err ? `: ${err instanceof Error ? err.message : String(err)}` : ""}`);
      },
    };
  }

  /** Marks as verified every check whose revision the watch has delivered, and wakes the waiters it satisfies. */
  private settle(): void {
    while (this.checks.length > 0 && this.checks[0]!.revision <= this.watchedRevision) {
      this.verifiedAt = Math.max(this.verifiedAt, this.checks.shift()!.at);
      this.onVerified?.();
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.revision <= this.watchedRevision) this.waiters.splice(i, 1)[0]!.resolve(true);
    }
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    const at = Date.now();
    try {
      this.checks.push({ at, revision: await this.store.lastRevision() });
      if (this.checks.length > MAX_CHECKS) this.checks.splice(1, 1);
      this.settle();
      const behindSince = Math.max(this.checks[0]?.at ?? at, this.watchStartedAt);
      if (this.checks.length > 0 && this.connected && at - behindSince >= 2 * this.checkIntervalMs) {
        void this.restartWatch(`the watch is behind the store (revision ${this.watchedRevision} of ${this.checks[0]!.revision})`);
      }
    } catch {
      // the store is unreachable: the copy is no longer confirmed, and staleness() says since when
    } finally {
      this.checking = false;
    }
  }

  private restartWatch(reason: string): Promise<void> {
    return (this.restarting ??= (async () => {
      this.watch?.stop();
      this.watch = undefined;
      const generation = ++this.watchGeneration;
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          const watch = await this.store.watch(this.watchedRevision, this.listener(generation));
          if (this.closed) {
            watch.stop();
            return;
          }
          this.watch = watch;
          this.watchStartedAt = Date.now();
          this.log(`registry: watching the bucket again from revision ${this.watchedRevision + 1} (${reason})`);
          void this.check();
          return;
        } catch {
          await sleep(Math.min(100 * 2 ** attempt, MAX_RESTART_DELAY_MS));
        }
      }
    })().finally(() => (this.restarting = undefined)));
  }
}
