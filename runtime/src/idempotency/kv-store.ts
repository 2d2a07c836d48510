import { Kvm, type KV } from "@nats-io/kv";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import type { IdempotencyStore } from "./types.js";

/** Options of {@link createKvIdempotencyStore}. */
export interface KvIdempotencyStoreOptions {
  /** Bucket name; default `chronicle_idem_<stream>`. */
  bucket?: string;
  /** How long a handled event is remembered, in ms; default 7 days. Redeliveries later than this run the handler again. */
  ttlMs?: number;
  /** Replicas of the bucket; default 1 (use the stream's replicas on a cluster). */
  replicas?: number;
  /** Stream the store belongs to, for the default bucket name. */
  stream?: string;
}

/** Default time a KV store remembers a handled event: 7 days. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * The default idempotency store: a JetStream KV bucket whose entries expire
 * after `ttlMs`. `markDone` resolves after the server stored the record (on a
 * cluster, after a quorum of replicas), so a record survives member crashes
 * and is seen by every member of the group. The bucket is created when
 * missing. Keys must be valid KV keys (the runtime passes
 * `<group>.<epoch>.<key>` with each part made safe).
 */
export async function createKvIdempotencyStore(
  conn: ChronicleConnection,
  options: KvIdempotencyStoreOptions = {},
): Promise<IdempotencyStore & { readonly bucket: string }> {
  const bucket = options.bucket ?? `chronicle_idem_${options.stream ?? "default"}`;
  const kvm = new Kvm(conn.js);
  let kv: KV;
  try {
    kv = await kvm.create(bucket, { history: 1, ttl: options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS, replicas: options.replicas ?? 1 });
  } catch (createErr) {
    try {
      kv = await kvm.open(bucket);
      await kv.status();
    } catch {
      throw new ChronicleError(ErrorCode.Unavailable, `cannot open idempotency bucket ${bucket}: ${(createErr as Error).message}`, { cause: createErr });
    }
  }
  const marker = new Uint8Array([1]);
  return {
    bucket,
    async isDone(key) {
      const e = await kv.get(key);
      return e !== null && e.operation === "PUT";
    },
    async markDone(key) {
      await kv.put(key, marker);
    },
  };
}
