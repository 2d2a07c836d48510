import { describe, expect, it } from "vitest";
import { keyToken } from "./key-token.js";
import { fnv1a32, partitionOf, partitionOfToken } from "./partition.js";

describe("the partition function", () => {
  it("gives the same partition from a token's characters as from its UTF-8 bytes, for every token form", () => {
    const keys = ["order-1", "a", "a.b", "with space", "日本語🙂", "", "x".repeat(200), "~tilde", "=eq"];
    for (const key of keys) {
      const token = keyToken(key);
      for (const n of [1, 7, 16, 1024]) {
        expect(partitionOfToken(token, n), key).toBe(fnv1a32(Buffer.from(token, "utf8")) % n);
        expect(partitionOf(key, n), key).toBe(partitionOfToken(token, n));
      }
    }
  });
});
