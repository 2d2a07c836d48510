import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RegistryError, toConnectError } from "../service/registry-error.js";
import { createKvStore } from "../storage/kv-store.js";
import type { RegistryStore } from "../storage/store.js";

/** Where a registry server keeps its state: the fields of its options that say so. @private */
export interface StorageOptions {
  nats?: string | string[] | undefined;
  connection?: NatsConnection | undefined;
  store?: RegistryStore | undefined;
  bucket?: string | undefined;
  replicas?: number | undefined;
}

/** An open store, the largest value it can hold, and how to let go of it. @private */
export interface OpenStorage {
  store: RegistryStore;
  /** Largest value the store accepts, when it has a limit. */
  maxValueBytes: number | undefined;
  /** Closes the NATS connection it opened, if any. */
  close(): Promise<void>;
}

/** Room left in a KV value for the message's headers. */
const KV_HEADER_ROOM_BYTES = 8 * 1024;

/**
 * Opens the store a registry server was given: `store` as it is, or the
 * JetStream KV bucket on `connection` (which the caller keeps), or on a new
 * connection to `nats` (which {@link OpenStorage.close} closes). A KV value
 * is one NATS message, so the server's `max_payload` bounds it. Throws
 * `unavailable` when NATS or the bucket cannot be reached.
 * @private
 */
export async function openStorage(options: StorageOptions): Promise<OpenStorage> {
  if (options.store) return { store: options.store, maxValueBytes: undefined, close: async () => {} };
  let owned: NatsConnection | undefined;
  let nc = options.connection;
  if (!nc) {
    if (!options.nats) throw new RegistryError("invalid_config", "startRegistryServer needs nats, connection or store");
    try {
      nc = owned = await connect({ servers: options.nats, name: "chronicle-registry", maxReconnectAttempts: -1 });
    } catch (err) {
      throw new RegistryError("storage_unavailable", `cannot connect to NATS at ${String(options.nats)}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    const store = await createKvStore(nc, {
      ...(options.bucket ? { bucket: options.bucket } : {}),
      ...(options.replicas ? { replicas: options.replicas } : {}),
    });
    return { store, maxValueBytes: nc.info!.max_payload - KV_HEADER_ROOM_BYTES, close: async () => await owned?.close() };
  } catch (err) {
    await owned?.close();
    throw toConnectError(err);
  }
}
