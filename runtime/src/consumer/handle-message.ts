import type { JsMsg } from "@nats-io/jetstream";
import { type DeadLetterReason } from "../dead-letter/headers.js";
import { publishDeadLetter } from "../dead-letter/publish.js";
import { HandlerContext } from "./handler-context.js";
import { startLookup, type Delivery, type Lookup, type MemberRuntime, type Origin } from "./delivery.js";
import { isNonRetryable, retryDelayMs } from "./retry.js";
import type { EventContext, EventHandler } from "./types.js";

/** What became of one delivery. @private */
export type Outcome = { kind: "acked" | "duplicate" | "skipped" | "dead" | "left" } | { kind: "retry"; delayMs: number };

/**
 * Where {@link runDelivery} reports, each once per delivery and in this order.
 * @private
 */
export interface DeliveryEnd {
  /** The handler returned (or will not run): the key's next event may start; a `retry` holds the key back for the redelivery. */
  released(d: Delivery, outcome: Outcome): void;
  /** Nothing more happens to the event here: acked after its record was stored, nakked, terminated, or left for the next owner. */
  settled(d: Delivery, kind: Outcome["kind"]): void;
}

const ACKED: Outcome = { kind: "acked" };
const DUPLICATE: Outcome = { kind: "duplicate" };
const SKIPPED: Outcome = { kind: "skipped" };
const LEFT: Outcome = { kind: "left" };

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

/**
 * A lookup or record that failed is not tried again once the member stops,
 * or once its connection is closed for good (the member reported that once;
 * the events stay unacknowledged for the next owner).
 */
function givingUp(rt: MemberRuntime): boolean {
  return rt.signal.aborted || rt.conn.nc.isClosed();
}

function finish(end: DeliveryEnd, d: Delivery, outcome: Outcome): void {
  end.released(d, outcome);
  end.settled(d, outcome.kind);
}

/**
 * Runs one delivery through the idempotent pipeline: decode (dead-letter at
 * once when impossible), look the idempotency key up (ack and skip when
 * done), run the handler, record the key, ack. A failure is retried with a
 * delayed nak until the policy's attempts are used, then dead-lettered and
 * terminated. Never throws; reports to `end`.
 *
 * The common path is callbacks, not async functions: one promise per event
 * (the handler's), which the member's throughput depends on. `released`
 * comes as soon as the handler succeeded, so that the key's next event can
 * start; the record and then the ack follow, then `settled`. The lookup
 * answer is trusted only together with {@link RecentRecords}: an event whose
 * idempotency key this member handled after the lookup was issued (a
 * re-published duplicate right behind its original) is a duplicate too.
 * @private
 */
export function runDelivery(rt: MemberRuntime, d: Delivery, end: DeliveryEnd): void {
  if (!d.def) {
    // An event type this code does not know (a newer producer): not ours to fail on.
    d.m.ack();
    rt.metrics.count("skipped");
    finish(end, d, SKIPPED);
    return;
  }
  if (d.decodeError) {
    const { origin } = d;
    rt.onError(d.decodeError, { stream: origin.stream, sequence: origin.sequence, subject: origin.subject });
    void deadLetterThen(rt, d, end, d.decodeError, "decode_failed");
    return;
  }
  // A lookup started on arrival stands unless this member forgot records made since.
  const early = d.lookup && !rt.recent.stale(d.lookup.stamp) ? d.lookup : undefined;
  d.lookup = undefined;
  whenLookedUp(rt, d, end, early ?? startLookup(rt, d.storeKey), early ? 0 : RETRY_FIRST_MS);
}

/**
 * Goes on once `lookup` is answered. While the store does not answer, the
 * lookup is retried in place (`wait` ms, doubling to 5 s; 0 for a lookup
 * made on arrival, whose failure is old news and is asked again at once),
 * the event held in its lane and kept alive: a nak would wait for a
 * redelivery that a server restart can leave in this lane's own queue.
 */
function whenLookedUp(rt: MemberRuntime, d: Delivery, end: DeliveryEnd, lookup: Lookup, wait: number): void {
  const answer = lookup.answer;
  if (answer === undefined) {
    lookup.waiter = () => whenLookedUp(rt, d, end, lookup, wait);
    return;
  }
  if (answer instanceof Error) {
    if (givingUp(rt)) return finish(end, d, LEFT);
    rt.onError(answer, { stream: d.origin.stream, sequence: d.origin.sequence });
    if (wait === 0) return whenLookedUp(rt, d, end, startLookup(rt, d.storeKey), RETRY_FIRST_MS);
    setTimeout(() => {
      if (givingUp(rt)) finish(end, d, LEFT);
      else whenLookedUp(rt, d, end, startLookup(rt, d.storeKey), Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
    return;
  }
  if (answer || rt.recent.doneSince(d.storeKey, lookup.stamp)) {
    rt.acks.ack(d.m);
    rt.metrics.count("duplicates");
    return finish(end, d, DUPLICATE);
  }
  const handler = rt.handlers[d.origin.eventName] as EventHandler<unknown> | undefined;
  if (!handler) {
    d.m.ack();
    rt.metrics.count("skipped");
    return finish(end, d, SKIPPED);
  }
  const ctx = new HandlerContext(d, rt.signal);
  d.ctx = ctx;
  const started = performance.now();
  // typed as returning a promise; a plain JavaScript handler may return nothing
  let running: { then?: unknown } | null | undefined;
  try {
    running = handler(d.event, ctx) as { then?: unknown } | null | undefined;
  } catch (err) {
    void failed(rt, d, end, ctx, err);
    return;
  }
  if (running !== null && running !== undefined && typeof running.then === "function") {
    (running as Promise<void>).then(
      () => succeeded(rt, d, end, started),
      (err: unknown) => void failed(rt, d, end, ctx, err),
    );
  } else {
    succeeded(rt, d, end, started);
  }
}

function succeeded(rt: MemberRuntime, d: Delivery, end: DeliveryEnd, started: number): void {
  rt.metrics.latency(performance.now() - started);
  rt.recent.handled(d.storeKey);
  if (rt.firstFailures.size > 0) rt.firstFailures.delete(`${d.origin.stream}:${d.origin.sequence}`);
  end.released(d, ACKED);
  recordThenAck(rt, d, end, RETRY_FIRST_MS);
}

/**
 * Stores the record of a handled event, then acks it. The effect has
 * happened, so a record that fails (the store or the server is down, as
 * during a NATS restart) is retried (`wait` ms, doubling to 5 s) until it is
 * stored: acking without it would let the redelivery that follows a lost
 * ack run the handler again. While it retries, the event keeps its
 * `maxUnrecorded` permit, so a store outage stops the member taking new
 * work. Only a member that is stopping, or whose connection is closed for
 * good, gives up, leaving the event unacknowledged for the next owner (the
 * window docs/delivery.md states).
 */
function recordThenAck(rt: MemberRuntime, d: Delivery, end: DeliveryEnd, wait: number): void {
  rt.store.record(d.storeKey, (result) => {
    if (!(result instanceof Error)) {
      rt.recent.recorded(d.storeKey);
      rt.acks.ack(d.m);
      rt.metrics.count("handled");
      end.settled(d, "acked");
      return;
    }
    if (givingUp(rt)) return end.settled(d, "left");
    rt.onError(result, d.ctx ?? {});
    setTimeout(() => {
      if (givingUp(rt)) end.settled(d, "left");
      else recordThenAck(rt, d, end, Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
  });
}

/** A handler failed: retry later with a delayed nak, or dead-letter. */
async function failed(rt: MemberRuntime, d: Delivery, end: DeliveryEnd, ctx: EventContext, err: unknown): Promise<void> {
  rt.metrics.count("failed");
  if (rt.signal.aborted) {
    // Stopping: leave it unacknowledged for the next owner rather than count an attempt as failed.
    return finish(end, d, LEFT);
  }
  rt.onError(err, ctx);
  const failKey = `${d.origin.stream}:${d.origin.sequence}`;
  if (!rt.firstFailures.has(failKey)) rt.firstFailures.set(failKey, new Date());
  if (isNonRetryable(err)) return deadLetterThen(rt, d, end, err, "non_retryable");
  if (d.attempt >= rt.retry.maxAttempts) return deadLetterThen(rt, d, end, err, "attempts_exhausted");
  const delayMs = retryDelayMs(rt.retry, d.attempt);
  d.m.nak(delayMs);
  rt.metrics.count("retried");
  finish(end, d, { kind: "retry", delayMs });
}

async function deadLetterThen(rt: MemberRuntime, d: Delivery, end: DeliveryEnd, err: unknown, reason: DeadLetterReason): Promise<void> {
  let outcome: Outcome;
  try {
    outcome = await deadLetter(rt, d.m, d.origin, d.attempt, err, reason);
  } catch (unexpected) {
    // deadLetter does not throw; should it, the event stays unacknowledged and is redelivered after ack_wait.
    rt.onError(unexpected, { stream: d.origin.stream, sequence: d.origin.sequence });
    outcome = LEFT;
  }
  finish(end, d, outcome);
}

async function deadLetter(rt: MemberRuntime, m: JsMsg, origin: Origin, attempts: number, err: unknown, reason: DeadLetterReason): Promise<Outcome> {
  const now = new Date();
  const failKey = `${origin.stream}:${origin.sequence}`;
  try {
    await publishDeadLetter(rt.conn, {
      ...origin,
      group: rt.group,
      attempts,
      error: err instanceof Error ? err.message : String(err),
      reason,
      firstFailure: rt.firstFailures.get(failKey) ?? now,
      lastFailure: now,
      data: m.data,
      headers: m.headers,
      dedupKey: `dlq:${rt.group}:${m.info.stream}:${m.seq}`,
    });
  } catch (pubErr) {
    rt.onError(pubErr, { stream: origin.stream, sequence: origin.sequence });
    m.nak(Math.max(1000, rt.retry.initialDelayMs));
    return { kind: "retry", delayMs: Math.max(1000, rt.retry.initialDelayMs) };
  }
  rt.firstFailures.delete(failKey);
  m.term(`dead-lettered: ${reason}`);
  rt.metrics.count("deadLettered");
  return { kind: "dead" };
}
