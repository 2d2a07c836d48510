import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator, Status } from "@nats-io/transport-node";
import { StoreUnavailableError, type RegistryStore, type StoreWatchListener } from "./store.js";

/** Options of {@link createKvStore}. */
export interface KvStoreOptions {
  /** Bucket name; default `chronicle_registry`. */
  bucket?: string;
  /** Replicas of the bucket's stream when it is created (1, 3 or 5); default 1. */
  replicas?: number;
  /** Timeout of each KV request in milliseconds; default 5000. */
  timeoutMs?: number;
}

/** Default bucket of the registry. */
export const DEFAULT_REGISTRY_BUCKET = "chronicle_registry";

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function unavailable(op: string, key: string, err: unknown): StoreUnavailableError {
  const why = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`registry storage ${op} of ${JSON.stringify(key)} failed: ${why}`, { cause: err });
}

async function guard<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(op, key, err);
  }
}

/** A compare-and-set write: the new revision, undefined when another writer got there first. */
async function compareAndSet(op: string, key: string, write: () => Promise<number>): Promise<number | undefined> {
  try {
    return await write();
  } catch (err) {
    if (isWrongLastSequence(err)) return undefined;
    throw unavailable(op, key, err);
  }
}

/** Runs a KV watch, reporting its entries to `listener` until it ends or is stopped. */
async function watchBucket(kv: KV, afterRevision: number, listener: StoreWatchListener) {
  const entries = await guard("watch", ">", () => kv.watch(afterRevision > 0 ? { resumeFromRevision: afterRevision + 1 } : {}));
  let stopped = false;
  void (async () => {
    try {
      for await (const e of entries) {
        if (stopped) break;
        listener.change({ key: e.key, value: e.operation === "PUT" ? e.value : undefined, revision: e.revision });
      }
      if (!stopped) listener.ended();
    } catch (err) {
      if (!stopped) listener.ended(err);
    }
  })();
  return {
    stop: () => {
      stopped = true;
      entries.stop();
    },
  };
}

/**
 * Opens (creating if needed) the registry's JetStream KV bucket: history 1,
 * file storage. Compare-and-set maps to `kv.create` and `kv.update` with a
 * revision, so several registry servers can share one bucket; a watch is a
 * `kv.watch` (an ordered consumer). The caller owns `nc` and closes it.
 */
export async function createKvStore(nc: NatsConnection, options: KvStoreOptions = {}): Promise<RegistryStore> {
  const bucket = options.bucket ?? DEFAULT_REGISTRY_BUCKET;
  const kv = await guard("open", bucket, () =>
    new Kvm(nc).create(bucket, {
      history: 1,
      storage: "file",
      replicas: options.replicas ?? 1,
      timeout: options.timeoutMs ?? 5000,
      description: "Chronicle schema registry",
    }),
  );
  return {
    get: (key) =>
      guard("get", key, async () => {
        const e = await kv.get(key);
        return e ? { value: e.operation === "PUT" ? e.value : undefined, revision: e.revision } : undefined;
      }),
    createIfAbsent: (key, value) => compareAndSet("create", key, () => kv.create(key, value)),
    updateIfRevision: (key, value, revision) => compareAndSet("update", key, () => kv.update(key, value, revision)),
    put: (key, value) => guard("put", key, () => kv.put(key, value)),
    remove: (key) => guard("purge", key, () => kv.purge(key)),
    lastRevision: () => guard("status", bucket, async () => (await kv.status()).streamInfo.state.last_seq),
    watch: (afterRevision, listener) => watchBucket(kv, afterRevision, listener),
    onConnectionChange: (listener) => {
      // nats.js hands out a QueuedIterator typed as AsyncIterable; stop() is how a listener leaves
      const statuses = nc.status() as QueuedIterator<Status>;
      void (async () => {
        for await (const s of statuses) {
          if (s.type === "disconnect") listener(false);
          else if (s.type === "reconnect") listener(true);
        }
      })();
      return () => statuses.stop();
    },
  };
}
