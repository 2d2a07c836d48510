import { createHash } from "node:crypto";

const PLAIN = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_ENCODED_BYTES = 96;

/**
 * Turns an event key into one NATS subject token, reproducibly in any
 * language:
 *
 * 1. a key of 1-128 characters from `[A-Za-z0-9_-]` is its own token;
 * 2. any other key of at most 96 UTF-8 bytes (the empty key included) is
 *    `~` followed by the unpadded base64url of its UTF-8 bytes;
 * 3. a longer key is `=` followed by the unpadded base64url of the SHA-256
 *    of its UTF-8 bytes.
 *
 * Plain tokens never start with `~` or `=`, so the three forms never
 * collide, and no token contains `.`, `*`, `>` or white space. The key itself
 * travels in the `ce-partitionkey` header.
 */
export function keyToken(key: string): string {
  if (PLAIN.test(key)) return key;
  const bytes = Buffer.from(key, "utf8");
  if (bytes.length <= MAX_ENCODED_BYTES) return `~${bytes.toString("base64url")}`;
  return `=${createHash("sha256").update(bytes).digest("base64url")}`;
}

/**
 * Reverses {@link keyToken} for the first two forms; returns undefined for a
 * hashed token (read the `ce-partitionkey` header instead).
 */
export function keyFromToken(token: string): string | undefined {
  if (token.startsWith("~")) return Buffer.from(token.slice(1), "base64url").toString("utf8");
  if (token.startsWith("=")) return undefined;
  return token;
}
