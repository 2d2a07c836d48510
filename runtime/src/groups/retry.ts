import { ChronicleError, ErrorCode, type ErrorContext } from "../errors.js";

/**
 * How a consumer retries a failed handler: up to `maxAttempts` deliveries in
 * all, each retry after a delayed nak of `initialDelayMs * multiplier^(n-1)`
 * (capped at `maxDelayMs`), shortened by a random part of up to `jitter`
 * (0..1) so that failures in many partitions do not retry in step.
 */
export interface RetryPolicy {
  /** Deliveries in all, the first included; default 5. 1 means no retry. */
  maxAttempts: number;
  /** Delay before the second attempt; default 500 ms. */
  initialDelayMs: number;
  /** Upper bound of a delay; default 60 s. */
  maxDelayMs: number;
  /** Growth factor per attempt; default 2. */
  multiplier: number;
  /** Fraction of each delay that is random; default 0.2. */
  jitter: number;
}

/** The retry policy used for what a consumer leaves out. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 60_000, multiplier: 2, jitter: 0.2 };

/** Fills defaults and checks ranges; throws `invalid_argument`. */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  const bad = (option: string) =>
    new ChronicleError(ErrorCode.InvalidArgument, `retry.${option} is out of range: ${JSON.stringify(p[option as keyof RetryPolicy])}`, {
      context: { option },
    });
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) throw bad("maxAttempts");
  if (!(p.initialDelayMs >= 0)) throw bad("initialDelayMs");
  if (!(p.maxDelayMs >= p.initialDelayMs)) throw bad("maxDelayMs");
  if (!(p.multiplier >= 1)) throw bad("multiplier");
  if (!(p.jitter >= 0 && p.jitter <= 1)) throw bad("jitter");
  return p;
}

/** Delay before the attempt after `attempt` (1-based), with jitter from `random` (0..1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: number = Math.random()): number {
  const raw = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(raw * (1 - policy.jitter * random));
}

/**
 * Thrown by a handler (or wrapping the real cause) to say that retrying
 * cannot help: the event goes to the dead-letter stream at once.
 */
export class NonRetryableError extends ChronicleError {
  override name = "NonRetryableError";
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(ErrorCode.FailedPrecondition, message, options);
  }
}

/** True for a {@link NonRetryableError}, across package copies (by name), or an error with `retryable === false`. */
export function isNonRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  return (err as { name?: unknown }).name === "NonRetryableError" || (err as { retryable?: unknown }).retryable === false;
}
