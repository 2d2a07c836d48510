import { type DeadLetterReason } from "../dead-letter/headers.js";
import { publishDeadLetter } from "../dead-letter/publish.js";
import { HandlerContext } from "./handler-context.js";
import type { MemberContext } from "./member-context.js";
import { startLookup, type Delivery, type Lookup } from "./read-delivery.js";
import { isNonRetryable, retryDelayMs } from "./retry.js";
import type { EventHandler } from "./types.js";
import { startProcessSpan, type ProcessedDelivery } from "../telemetry/process-span.js";

/** How an event's turn ended without a handled result to store. @private */
export type SettleKind = "duplicate" | "skipped" | "dead" | "left";

/**
 * The slot owner's side of {@link runEvent}: each event reports `released`
 * once per run of its handler (or once, when no handler runs), then exactly
 * one of `handled` or `settled`.
 * @private
 */
export interface EventOwner {
  /** True while the owner holds the slot and its lease: checked right before each handler starts. */
  mayStart(): boolean;
  /** The event cannot start now (the lease is being renewed): run {@link startHandler} again once it may. */
  park(delivery: Delivery): void;
  /** The handler is done (or will not run): its permit goes back; `retryInMs` holds the key's lane until the event runs again. */
  released(delivery: Delivery, retryInMs?: number): void;
  /** The handler succeeded: the owner stores the result (the slot's next write, or the user's store) and settles the event. */
  handled(delivery: Delivery): void;
  /** Nothing more happens to the event here. */
  settled(delivery: Delivery, kind: SettleKind): void;
  /** The handler failed and will run again: its attempts travel in the slot's next write. */
  failing(delivery: Delivery): void;
  /** True once `delivery` is no longer the owner's to run: the slot is let go (released, fenced, stopping), or read again since `delivery` was delivered. */
  givingUp(delivery: Delivery): boolean;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

/**
 * Runs one event's turn: decode failures go to the dead-letter stream;
 * an event whose idempotency key the slot already handled (or a
 * user-supplied store has recorded) is a duplicate; otherwise its handler
 * runs, and is retried in this member after the retry policy's delay (the
 * key's later events wait) until it succeeds or its attempts are used up,
 * then dead-lettered. Never throws; reports to `owner`.
 *
 * The common path is callbacks: the handler's promise is the only one made
 * per event.
 * @private
 */
export function runEvent(member: MemberContext, owner: EventOwner, delivery: Delivery, keys: { has(key: string, now: number): boolean }): void {
  if (!delivery.def) {
    // an event type this code does not know (a newer producer): not ours to fail on
    member.metrics.count("skipped");
    return settleNow(owner, delivery, "skipped");
  }
  if (delivery.decodeError) {
    const { origin } = delivery;
    member.onError(delivery.decodeError, { stream: origin.stream, sequence: origin.sequence, subject: origin.subject });
    void deadLetter(member, owner, delivery, delivery.decodeError, "decode_failed");
    return;
  }
  if (keys.has(delivery.stateKey, Date.now())) return duplicate(member, owner, delivery);
  const lookup = delivery.lookup;
  delivery.lookup = undefined;
  if (lookup) whenLookedUp(member, owner, delivery, lookup, keys, 0);
  else startHandler(member, owner, delivery);
}

function settleNow(owner: EventOwner, delivery: Delivery, kind: SettleKind): void {
  owner.released(delivery);
  owner.settled(delivery, kind);
}

function duplicate(member: MemberContext, owner: EventOwner, delivery: Delivery): void {
  member.metrics.count("duplicates");
  settleNow(owner, delivery, "duplicate");
}

/**
 * Goes on once a user-supplied store answered. While it does not answer,
 * the lookup is asked again in place (`wait` ms, doubling to 5 s; at once
 * for the lookup made on arrival, whose failure is old news), the event
 * held in its lane, as are the later events of its key.
 */
function whenLookedUp(
  member: MemberContext,
  owner: EventOwner,
  delivery: Delivery,
  lookup: Lookup,
  keys: { has(key: string, now: number): boolean },
  wait: number,
): void {
  const answer = lookup.answer;
  if (answer === undefined) {
    lookup.waiter = () => whenLookedUp(member, owner, delivery, lookup, keys, wait);
    return;
  }
  if (answer instanceof Error) {
    if (owner.givingUp(delivery)) return settleNow(owner, delivery, "left");
    member.onError(answer, { stream: delivery.origin.stream, sequence: delivery.origin.sequence });
    if (wait === 0) return whenLookedUp(member, owner, delivery, startLookup(member, delivery.storeKey), keys, RETRY_FIRST_MS);
    setTimeout(() => {
      if (owner.givingUp(delivery)) settleNow(owner, delivery, "left");
      else whenLookedUp(member, owner, delivery, startLookup(member, delivery.storeKey), keys, Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
    return;
  }
  // the slot's own keys also hold what this owner handled after the lookup left
  if (answer || keys.has(delivery.stateKey, Date.now())) return duplicate(member, owner, delivery);
  startHandler(member, owner, delivery);
}

/**
 * Runs the event's handler, if the owner's lease holds now (otherwise the
 * owner parks the event and calls this again once it has renewed).
 * @private
 */
export function startHandler(member: MemberContext, owner: EventOwner, delivery: Delivery): void {
  if (owner.givingUp(delivery)) return settleNow(owner, delivery, "left");
  if (!owner.mayStart()) return owner.park(delivery);
  const handler = member.handlers[delivery.origin.eventName] as EventHandler<unknown> | undefined;
  if (!handler) {
    member.metrics.count("skipped");
    return settleNow(owner, delivery, "skipped");
  }
  const ctx = new HandlerContext(delivery, member.signal);
  delivery.ctx = ctx;
  delivery.phase = "running";
  const span = member.tracing ? startProcessSpan(processedDelivery(member, delivery), member.tracing) : undefined;
  const started = performance.now();
  // typed as returning a promise; a plain JavaScript handler may return nothing
  let running: { then?: unknown } | null | undefined;
  try {
    const run = () => handler(delivery.event, ctx) as { then?: unknown } | null | undefined;
    running = span ? span.run(run) : run();
  } catch (err) {
    span?.end(err);
    failed(member, owner, delivery, err);
    return;
  }
  if (running !== null && running !== undefined && typeof running.then === "function") {
    (running as Promise<void>).then(
      () => {
        span?.end();
        succeeded(member, owner, delivery, started);
      },
      (err: unknown) => {
        span?.end(err);
        failed(member, owner, delivery, err);
      },
    );
  } else {
    span?.end();
    succeeded(member, owner, delivery, started);
  }
}

/** What the process span of a delivery's handler run records. */
function processedDelivery(member: MemberContext, delivery: Delivery): ProcessedDelivery {
  return {
    stream: delivery.origin.stream,
    group: member.group,
    partition: delivery.origin.partition,
    type: delivery.def?.type ?? delivery.origin.eventName,
    id: delivery.id,
    deliveryCount: delivery.attempt,
    bodySize: delivery.msg.data.length,
    headers: delivery.headers,
  };
}

function succeeded(member: MemberContext, owner: EventOwner, delivery: Delivery, started: number): void {
  member.metrics.latency(performance.now() - started);
  delivery.phase = "handled";
  // the key is the slot's before the key's next event starts: a duplicate right behind is seen
  owner.handled(delivery);
  owner.released(delivery);
}

/** A handler failed: run it again after the policy's delay, or dead-letter the event. */
function failed(member: MemberContext, owner: EventOwner, delivery: Delivery, err: unknown): void {
  member.metrics.count("failed");
  if (member.signal.aborted || owner.givingUp(delivery)) {
    // letting go: the next owner runs it, without counting this as a failed attempt
    return settleNow(owner, delivery, "left");
  }
  member.onError(err, delivery.ctx ?? {});
  delivery.firstFailure ??= Date.now();
  if (isNonRetryable(err)) return void deadLetter(member, owner, delivery, err, "non_retryable");
  if (delivery.attempt >= member.retry.maxAttempts) return void deadLetter(member, owner, delivery, err, "attempts_exhausted");
  const delayMs = retryDelayMs(member.retry, delivery.attempt);
  delivery.attempt++;
  delivery.phase = "waiting";
  member.metrics.count("retried");
  owner.failing(delivery);
  owner.released(delivery, delayMs);
}

/**
 * Publishes the event to the dead-letter stream (with a dedup key, so that
 * a second publish after a crash is stored once), retrying with backoff
 * while the stream cannot be written, then settles it as dead.
 */
async function deadLetter(member: MemberContext, owner: EventOwner, delivery: Delivery, err: unknown, reason: DeadLetterReason): Promise<void> {
  const { origin, msg } = delivery;
  const failedAt = new Date();
  let wait = Math.max(RETRY_FIRST_MS, member.retry.initialDelayMs);
  for (;;) {
    try {
      await publishDeadLetter(member.conn, {
        ...origin,
        group: member.group,
        attempts: delivery.attempt,
        error: err instanceof Error ? err.message : String(err),
        reason,
        firstFailure: new Date(delivery.firstFailure ?? failedAt.getTime()),
        lastFailure: failedAt,
        data: msg.data,
        headers: msg.headers,
        dedupKey: `dlq:${member.group}:${origin.stream}:${origin.sequence}`,
      });
      break;
    } catch (pubErr) {
      if (owner.givingUp(delivery)) return settleNow(owner, delivery, "left");
      member.onError(pubErr, { stream: origin.stream, sequence: origin.sequence });
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
  member.metrics.count("deadLettered");
  settleNow(owner, delivery, "dead");
}

/**
 * Records a handled event in the user-supplied store, retrying (`wait` ms,
 * doubling to 5 s) until it is stored: the effect has happened, and moving
 * the slot's floor over it without the record would let a later delivery
 * run the handler again. Only an owner letting go gives up, leaving the
 * event to the next owner (the window docs/delivery.md states). Calls
 * `done` once stored.
 * @private
 */
export function recordInStore(member: MemberContext, owner: EventOwner, delivery: Delivery, done: () => void, wait = RETRY_FIRST_MS): void {
  member.store!.record(delivery.storeKey, (result) => {
    if (!(result instanceof Error)) return done();
    if (owner.givingUp(delivery)) return owner.settled(delivery, "left");
    member.onError(result, delivery.ctx ?? {});
    setTimeout(() => {
      if (owner.givingUp(delivery)) owner.settled(delivery, "left");
      else recordInStore(member, owner, delivery, done, Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
  });
}
