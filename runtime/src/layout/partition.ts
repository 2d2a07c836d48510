import { keyToken } from "./key-token.js";

/** 32-bit FNV-1a over bytes, as nats-server's `partition()` transform computes it. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The partition of a key: FNV-1a 32 of the UTF-8 bytes of its subject token
 * ({@link keyToken}) modulo the number of partitions. The server computes the
 * same with the stream's `{{partition(N,2)}}` subject transform, so a message
 * published by any client lands where this function says.
 */
export function partitionOf(key: string, partitions: number): number {
  return fnv1a32(Buffer.from(keyToken(key), "utf8")) % partitions;
}
