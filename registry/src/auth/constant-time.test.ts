// The promise "tokens are compared in constant time" cannot be seen from outside: refusing a
// token costs microseconds, a short-circuiting comparison nanoseconds (test/reliability's timing
// test passes with `===` too). So this pins how the comparison is made: every presented token is
// hashed and compared with crypto.timingSafeEqual against every configured entry, as 32-byte
// digests, whether it matches, nearly matches or not at all.
import type * as NodeCrypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: { a: number; b: number }[] = [];
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof NodeCrypto>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push({ a: a.byteLength, b: b.byteLength });
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { createAuthenticator } = await import("./tokens.js");

const TOKENS = [
  { name: "reader", role: "read" as const, token: "reader-token-0123456789" },
  { name: "ops", role: "admin" as const, token: "admin-token-0123456789abcdef" },
  { name: "ci", role: "write" as const, token: "writer-token-0123456789" },
];

describe("token comparison", () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it.each([
    ["the right token", "admin-token-0123456789abcdef"],
    ["a near miss", "admin-token-0123456789abcdeX"],
    ["a far miss", "X".repeat(28)],
    ["a token of another length", "short-but-long-enough"],
  ])("%s is compared with timingSafeEqual against every entry, as 32-byte digests", (_what, presented) => {
    const auth = createAuthenticator({ tokens: TOKENS });
    try {
      auth.authorize(`Bearer ${presented}`, "read");
    } catch {
      // a refusal is fine; how it was decided is what counts
    }
    expect(calls).toHaveLength(TOKENS.length);
    for (const c of calls) expect(c).toEqual({ a: 32, b: 32 });
  });
});
