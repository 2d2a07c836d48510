import { keyToken } from "./key-token.js";

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over bytes, as nats-server's `partition()` transform computes it. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV_OFFSET_BASIS;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

/**
 * The partition of a key token ({@link keyToken}): FNV-1a 32 of its bytes
 * modulo the number of partitions. A token is ASCII, so its characters are
 * its bytes and nothing is encoded first (the producer calls this per key).
 */
export function partitionOfToken(token: string, partitions: number): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), FNV_PRIME) >>> 0;
  return h % partitions;
}

/**
 * The partition of a key: FNV-1a 32 of the UTF-8 bytes of its subject token
 * ({@link keyToken}) modulo the number of partitions. The server computes the
 * same with the stream's `{{partition(N,2)}}` subject transform, so a message
 * published by any client lands where this function says.
 */
export function partitionOf(key: string, partitions: number): number {
  return partitionOfToken(keyToken(key), partitions);
}
