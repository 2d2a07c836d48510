import type { ChronicleConnection } from "../connection.js";
import type { StreamDefinition } from "../definition.js";
import type { StoreOps } from "../idempotency/store-ops.js";
import type { ConsumerMetrics } from "../metrics/consumer-metrics.js";
import type { ProducerRelation } from "../telemetry/process-span.js";
import type { KeyRetention } from "./handled-keys.js";
import type { RetryPolicy } from "./retry.js";
import type { LeaseTiming } from "./slot-writer.js";
import type { StateLog } from "./state-log.js";
import type { EventContext, EventHandler } from "./types.js";
import type { Wire } from "../wire/types.js";

/**
 * A counting semaphore. Taking a free permit is synchronous; a waiter is a
 * callback, not a promise.
 * @private
 */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  constructor(private free: number) {}
  /** Takes a permit if one is free. */
  tryAcquire(): boolean {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return false;
  }
  /** Runs `then` once a permit is handed over to it (after a failed {@link tryAcquire}). */
  wait(then: () => void): void {
    this.waiting.push(then);
  }
  /** Gives a permit back: to the first waiter, or to the free ones. */
  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next();
    } else {
      this.free++;
    }
  }
}

const noop = () => undefined;

/**
 * How long the events of one event-loop turn may run before the rest wait
 * for the next turn. A handler's promise resolves in a microtask, and the
 * next event of its key starts from there: without a budget, a backlog runs
 * in one unbroken chain of microtasks, and nothing else (heartbeats, lease
 * renewals, pulls, the state writes that settle the events) runs until it
 * ends, seconds later.
 * @private
 */
export class TurnBudget {
  private startedAt = -1;
  constructor(private readonly budgetMs: number) {}
  /** True when this turn's events have run for longer than the budget (the first call of a turn starts its clock). */
  exhausted(): boolean {
    const now = performance.now();
    if (this.startedAt < 0) {
      this.startedAt = now;
      setImmediate(() => (this.startedAt = -1));
      return false;
    }
    return now - this.startedAt > this.budgetMs;
  }
}

/** Timing of a member, all from `failoverMs`. @private */
export interface MemberTiming extends LeaseTiming {
  /** Heartbeats, lease renewals and claim checks, ms. */
  heartbeatMs: number;
  /** A member whose heartbeat is older than this is taken for dead, ms. */
  sessionTimeoutMs: number;
}

/**
 * What every slot owner of one member shares: the connection and its wire, the stream's
 * definition and handlers, the idempotency store when the user gave one,
 * the bounds on work in flight, and where errors go.
 * @private
 */
export interface MemberContext {
  conn: ChronicleConnection;
  /** The connection's wire: reads each delivery's headers. */
  wire: Wire;
  /** JetStream API prefix of the connection (`$JS.API`, or a domain's). */
  apiPrefix: string;
  definition: StreamDefinition;
  stream: string;
  group: string;
  memberId: string;
  handlers: Readonly<Record<string, EventHandler<never> | undefined>>;
  /** A user-supplied idempotency store, in callback form; undefined: idempotency from the slot's own state. */
  store: StoreOps | undefined;
  /** The group's rewind epoch (part of the keys a user-supplied store sees). */
  epoch: number;
  retry: RetryPolicy;
  retention: KeyRetention;
  timing: MemberTiming;
  log: StateLog;
  metrics: ConsumerMetrics;
  /** How handler runs' process spans relate to their publish spans; undefined: no spans. */
  tracing: ProducerRelation | undefined;
  /** Aborted when the member stops. */
  signal: AbortSignal;
  /** Handlers running at once (`maxConcurrency`). */
  handlerPermits: Semaphore;
  /** Events whose handler started and whose result is not yet stored (`maxUnrecorded`). */
  unrecordedPermits: Semaphore;
  /** The member's `maxUnrecorded`. */
  unrecordedLimit: number;
  /** How long one turn of the event loop may run events. */
  turns: TurnBudget;
  onError: (err: unknown, ctx: Partial<EventContext>) => void;
}
