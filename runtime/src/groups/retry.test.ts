import { describe, expect, it } from "vitest";
import { isChronicleError } from "../errors.js";
import { DEFAULT_RETRY_POLICY, NonRetryableError, isNonRetryable, resolveRetryPolicy, retryDelayMs } from "./retry.js";

describe("retry backoff", () => {
  const p = resolveRetryPolicy({ initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 0.2 });

  it("grows exponentially from initialDelayMs and stops at maxDelayMs", () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(p, a, 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(retryDelayMs(p, 0, 0)).toBe(100); // attempt numbers below 1 are treated as the first
  });

  it("shortens each delay by up to jitter, never lengthens it", () => {
    expect(retryDelayMs(p, 3, 1)).toBe(320);
    expect(retryDelayMs(p, 3, 0.5)).toBe(360);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(p, 2);
      expect(d).toBeGreaterThanOrEqual(160);
      expect(d).toBeLessThanOrEqual(200);
    }
    expect(retryDelayMs(resolveRetryPolicy({ jitter: 0 }), 1, 1)).toBe(DEFAULT_RETRY_POLICY.initialDelayMs);
  });

  it("fills defaults and refuses out-of-range options with invalid_argument", () => {
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
    for (const bad of [
      { maxAttempts: 0 },
      { maxAttempts: 1.5 },
      { initialDelayMs: -1 },
      { maxDelayMs: 10, initialDelayMs: 20 },
      { multiplier: 0.5 },
      { jitter: 1.5 },
    ]) {
      let err: unknown;
      try {
        resolveRetryPolicy(bad);
      } catch (e) {
        err = e;
      }
      expect(isChronicleError(err) && err.code === "invalid_argument", JSON.stringify(bad)).toBe(true);
    }
  });

  it("recognises non-retryable errors by class, by name across copies, and by retryable === false", () => {
    expect(isNonRetryable(new NonRetryableError("no"))).toBe(true);
    expect(isNonRetryable(Object.assign(new Error("x"), { name: "NonRetryableError" }))).toBe(true);
    expect(isNonRetryable(Object.assign(new Error("x"), { retryable: false }))).toBe(true);
    expect(isNonRetryable(new Error("x"))).toBe(false);
    expect(isNonRetryable("x")).toBe(false);
  });
});
