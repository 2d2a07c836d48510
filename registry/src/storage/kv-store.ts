import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { StoreUnavailableError, type RegistryStore } from "./store.js";

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

/**
 * Opens (creating if needed) the registry's JetStream KV bucket: history 1,
 * file storage. Compare-and-set maps to `kv.create` and `kv.update` with a
 * revision, so several registry servers can share one bucket. The caller owns
 * `nc` and closes it.
 */
export async function createKvStore(nc: NatsConnection, options: KvStoreOptions = {}): Promise<RegistryStore> {
  const bucket = options.bucket ?? DEFAULT_REGISTRY_BUCKET;
  let kv: KV;
  try {
    kv = await new Kvm(nc).create(bucket, {
      history: 1,
      storage: "file",
      replicas: options.replicas ?? 1,
      timeout: options.timeoutMs ?? 5000,
      description: "Chronicle schema registry",
    });
  } catch (err) {
    throw unavailable("open", bucket, err);
  }
  const jsm = await jetstreamManager(nc);
  const guard = async <T>(op: string, key: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(op, key, err);
    }
  };
  return {
    get: (key) =>
      guard("get", key, async () => {
        const e = await kv.get(key);
        if (!e || e.operation !== "PUT") return undefined;
        return { value: e.value, revision: e.revision };
      }),
    createIfAbsent: async (key, value) => {
      try {
        await kv.create(key, value);
        return true;
      } catch (err) {
        if (isWrongLastSequence(err)) return false;
        throw unavailable("create", key, err);
      }
    },
    updateIfRevision: async (key, value, revision) => {
      try {
        await kv.update(key, value, revision);
        return true;
      } catch (err) {
        if (isWrongLastSequence(err)) return false;
        throw unavailable("update", key, err);
      }
    },
    put: (key, value) =>
      guard("put", key, async () => {
        await kv.put(key, value);
      }),
    remove: (key) => guard("purge", key, () => kv.purge(key)),
    // the stream's subject list, not kv.keys(): that creates a consumer per call and a busy
    // registry runs into the server's consumer limit; purged keys still show and get() skips them
    keys: (prefix) =>
      guard("keys", prefix, async () => {
        const subjectPrefix = `$KV.${bucket}.`;
        const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${subjectPrefix}${prefix}.>` });
        return Object.keys(info.state.subjects ?? {})
          .map((s) => s.slice(subjectPrefix.length))
          .sort();
      }),
  };
}
