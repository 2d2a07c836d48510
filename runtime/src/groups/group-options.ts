import type { EventSchemas } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import type { IdempotencyStore } from "../idempotency/types.js";
import type { MeterLike } from "../metrics/consumer-metrics.js";
import type { ProducerRelation } from "../telemetry/process-span.js";
import { DEFAULT_KEY_RETENTION, type KeyRetention } from "./handled-keys.js";
import type { MemberTiming } from "./member-context.js";
import type { StartPosition } from "./names.js";
import { resolveRetryPolicy, type RetryPolicy } from "./retry.js";
import type { EventContext, ExhaustiveHandlers, PartialHandlers } from "./types.js";

/** Options of {@link startConsumerGroup}; docs/consumer-groups.md has the table of defaults and bounds. */
export interface ConsumerGroupOptions<E extends EventSchemas> {
  /** Group name, 1-48 of `[A-Za-z0-9_-]`. Members with the same name share the partitions. */
  group: string;
  /** Handlers per event type. */
  handlers: ExhaustiveHandlers<E> | PartialHandlers<E>;
  /**
   * An idempotency store to look events up in and record them to, instead
   * of the partition's own state (a per-event KV store for lookups across
   * groups, or a SQL store). Default: none; the partition's handled keys
   * travel in the group's state records (docs/delivery.md).
   */
  store?: IdempotencyStore;
  /** How long and how many handled keys each partition remembers (without `store`). @default 7 days, 100,000 per partition */
  retainKeys?: Partial<KeyRetention>;
  /** Retry policy; defaults in {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Where a new group starts. Ignored once the group exists. @default "beginning" */
  startAt?: StartPosition;
  /** Handlers running at once in this member, over all its partitions. @default 64 */
  maxConcurrency?: number;
  /**
   * Events whose handler started and whose result is not yet stored, over
   * all the member's partitions: the most a crash of the member can make
   * run twice. @default 1024
   */
  maxUnrecorded?: number;
  /**
   * Bound on the time from a member's crash to its partitions flowing on
   * another member, ms (at least 1000). The session timeout and a
   * partition's lease are 0.4 of it, the heartbeat a tenth. @default 10000
   */
  failoverMs?: number;
  /** Member id; default `<host>-<pid>-<random>`. */
  memberId?: string;
  /** OpenTelemetry meter (`metrics.getMeter(...)` of `@opentelemetry/api`); without one, metrics are only in `metrics()`. */
  meter?: MeterLike;
  /**
   * Record an OpenTelemetry `process` span around each handler run (when
   * `@opentelemetry/api` is installed and a tracer provider records), with
   * the messaging attributes of the delivery. @default true
   */
  tracing?: boolean;
  /**
   * How a process span relates to the publish span whose context its event
   * carries: `"parent"`, one trace from publish to handling; `"link"`, a
   * span of the handler's active trace linked to the publish span (for
   * batch-like consumers whose traces should not grow with the log). @default "parent"
   */
  traceRelation?: ProducerRelation;
  /** Called with handler failures and background errors; default prints to stderr. */
  onError?: (err: unknown, ctx: Partial<EventContext>) => void;
  /** Called when the partitions this member owns change, with the new list. */
  onAssignment?: (partitions: number[]) => void;
}

/** The options with their defaults, checked. @private */
export interface ResolvedOptions {
  retry: RetryPolicy;
  retention: KeyRetention;
  maxConcurrency: number;
  maxUnrecorded: number;
  timing: MemberTiming;
  startAt: StartPosition;
  /** How process spans relate to publish spans; undefined: no process spans. */
  tracing: ProducerRelation | undefined;
}

const invalid = (option: string, message: string) => new ChronicleError(ErrorCode.InvalidArgument, message, { context: { option } });

/** Fills defaults and checks bounds; throws `invalid_argument` naming the option. @private */
export function resolveGroupOptions<E extends EventSchemas>(options: ConsumerGroupOptions<E>): ResolvedOptions {
  const failoverMs = options.failoverMs ?? 10_000;
  if (!(failoverMs >= 1000)) throw invalid("failoverMs", `failoverMs must be at least 1000, got ${failoverMs}`);
  // a bound of 0 (or a fraction) would let no event start, and the member would wait forever in silence
  for (const option of ["maxConcurrency", "maxUnrecorded"] as const) {
    const v = options[option];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw invalid(option, `${option} must be a whole number of at least 1, got ${v}`);
  }
  if (options.traceRelation !== undefined && options.traceRelation !== "parent" && options.traceRelation !== "link")
    throw invalid("traceRelation", `traceRelation must be "parent" or "link", got ${JSON.stringify(options.traceRelation)}`);
  const retention = { ...DEFAULT_KEY_RETENTION, ...options.retainKeys };
  if (!(retention.ttlMs > 0)) throw invalid("retainKeys.ttlMs", `retainKeys.ttlMs must be above 0, got ${retention.ttlMs}`);
  if (!(Number.isInteger(retention.perPartition) && retention.perPartition >= 1))
    throw invalid("retainKeys.perPartition", `retainKeys.perPartition must be a whole number of at least 1, got ${retention.perPartition}`);
  // A crash is seen one session after the member's last heartbeat; its partitions can be claimed one
  // lease after their last write (at once when this member saw that write announced): the two,
  // a heartbeat of evaluation and the claim itself stay within failoverMs.
  const heartbeatMs = Math.max(100, Math.floor(failoverMs / 10));
  const sessionTimeoutMs = Math.floor(failoverMs * 0.4);
  return {
    retry: resolveRetryPolicy(options.retry),
    retention,
    maxConcurrency: options.maxConcurrency ?? 64,
    maxUnrecorded: options.maxUnrecorded ?? 1024,
    timing: { heartbeatMs, sessionTimeoutMs, leaseMs: sessionTimeoutMs, marginMs: heartbeatMs, writeTimeoutMs: Math.max(1000, heartbeatMs) },
    startAt: options.startAt ?? "beginning",
    tracing: options.tracing === false ? undefined : (options.traceRelation ?? "parent"),
  };
}
