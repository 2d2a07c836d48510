import { type DeadLetterReason } from "../dead-letter/headers.js";
import { publishDeadLetter } from "../dead-letter/publish.js";
import { HandlerContext } from "./handler-context.js";
import type { MemberContext } from "./member-context.js";
import { startLookup, type Delivery, type Lookup } from "./read-delivery.js";
import { isNonRetryable, retryDelayMs } from "./retry.js";
import type { EventHandler } from "./types.js";

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
  park(d: Delivery): void;
  /** The handler is done (or will not run): its permit goes back; `retryInMs` holds the key's lane until the event runs again. */
  released(d: Delivery, retryInMs?: number): void;
  /** The handler succeeded: the owner stores the result (the slot's next write, or the user's store) and settles the event. */
  handled(d: Delivery): void;
  /** Nothing more happens to the event here. */
  settled(d: Delivery, kind: SettleKind): void;
  /** The handler failed and will run again: its attempts travel in the slot's next write. */
  failing(d: Delivery): void;
  /** True once `d` is no longer the owner's to run: the slot is let go (released, fenced, stopping), or read again since `d` was delivered. */
  givingUp(d: Delivery): boolean;
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
export function runEvent(member: MemberContext, owner: EventOwner, d: Delivery, keys: { has(key: string, now: number): boolean }): void {
  if (!d.def) {
    // an event type this code does not know (a newer producer): not ours to fail on
    member.metrics.count("skipped");
    return settleNow(owner, d, "skipped");
  }
  if (d.decodeError) {
    const { origin } = d;
    member.onError(d.decodeError, { stream: origin.stream, sequence: origin.sequence, subject: origin.subject });
    void deadLetter(member, owner, d, d.decodeError, "decode_failed");
    return;
  }
  if (keys.has(d.stateKey, Date.now())) return duplicate(member, owner, d);
  const lookup = d.lookup;
  d.lookup = undefined;
  if (lookup) whenLookedUp(member, owner, d, lookup, keys, 0);
  else startHandler(member, owner, d);
}

function settleNow(owner: EventOwner, d: Delivery, kind: SettleKind): void {
  owner.released(d);
  owner.settled(d, kind);
}

function duplicate(member: MemberContext, owner: EventOwner, d: Delivery): void {
  member.metrics.count("duplicates");
  settleNow(owner, d, "duplicate");
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
  d: Delivery,
  lookup: Lookup,
  keys: { has(key: string, now: number): boolean },
  wait: number,
): void {
  const answer = lookup.answer;
  if (answer === undefined) {
    lookup.waiter = () => whenLookedUp(member, owner, d, lookup, keys, wait);
    return;
  }
  if (answer instanceof Error) {
    if (owner.givingUp(d)) return settleNow(owner, d, "left");
    member.onError(answer, { stream: d.origin.stream, sequence: d.origin.sequence });
    if (wait === 0) return whenLookedUp(member, owner, d, startLookup(member, d.storeKey), keys, RETRY_FIRST_MS);
    setTimeout(() => {
      if (owner.givingUp(d)) settleNow(owner, d, "left");
      else whenLookedUp(member, owner, d, startLookup(member, d.storeKey), keys, Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
    return;
  }
  // the slot's own keys also hold what this owner handled after the lookup left
  if (answer || keys.has(d.stateKey, Date.now())) return duplicate(member, owner, d);
  startHandler(member, owner, d);
}

/**
 * Runs the event's handler, if the owner's lease holds now (otherwise the
 * owner parks the event and calls this again once it has renewed).
 * @private
 */
export function startHandler(member: MemberContext, owner: EventOwner, d: Delivery): void {
  if (owner.givingUp(d)) return settleNow(owner, d, "left");
  if (!owner.mayStart()) return owner.park(d);
  const handler = member.handlers[d.origin.eventName] as EventHandler<unknown> | undefined;
  if (!handler) {
    member.metrics.count("skipped");
    return settleNow(owner, d, "skipped");
  }
  const ctx = new HandlerContext(d, member.signal);
  d.ctx = ctx;
  d.phase = "running";
  const started = performance.now();
  // typed as returning a promise; a plain JavaScript handler may return nothing
  let running: { then?: unknown } | null | undefined;
  try {
    running = handler(d.event, ctx) as { then?: unknown } | null | undefined;
  } catch (err) {
    failed(member, owner, d, err);
    return;
  }
  if (running !== null && running !== undefined && typeof running.then === "function") {
    (running as Promise<void>).then(
      () => succeeded(member, owner, d, started),
      (err: unknown) => failed(member, owner, d, err),
    );
  } else {
    succeeded(member, owner, d, started);
  }
}

function succeeded(member: MemberContext, owner: EventOwner, d: Delivery, started: number): void {
  member.metrics.latency(performance.now() - started);
  d.phase = "handled";
  // the key is the slot's before the key's next event starts: a duplicate right behind is seen
  owner.handled(d);
  owner.released(d);
}

/** A handler failed: run it again after the policy's delay, or dead-letter the event. */
function failed(member: MemberContext, owner: EventOwner, d: Delivery, err: unknown): void {
  member.metrics.count("failed");
  if (member.signal.aborted || owner.givingUp(d)) {
    // letting go: the next owner runs it, without counting this as a failed attempt
    return settleNow(owner, d, "left");
  }
  member.onError(err, d.ctx ?? {});
  d.firstFailure ??= Date.now();
  if (isNonRetryable(err)) return void deadLetter(member, owner, d, err, "non_retryable");
  if (d.attempt >= member.retry.maxAttempts) return void deadLetter(member, owner, d, err, "attempts_exhausted");
  const delayMs = retryDelayMs(member.retry, d.attempt);
  d.attempt++;
  d.phase = "waiting";
  member.metrics.count("retried");
  owner.failing(d);
  owner.released(d, delayMs);
}

/**
 * Publishes the event to the dead-letter stream (with a dedup key, so that
 * a second publish after a crash is stored once), retrying with backoff
 * while the stream cannot be written, then settles it as dead.
 */
async function deadLetter(member: MemberContext, owner: EventOwner, d: Delivery, err: unknown, reason: DeadLetterReason): Promise<void> {
  const { origin, msg } = d;
  const failedAt = new Date();
  let wait = Math.max(RETRY_FIRST_MS, member.retry.initialDelayMs);
  for (;;) {
    try {
      await publishDeadLetter(member.conn, {
        ...origin,
        group: member.group,
        attempts: d.attempt,
        error: err instanceof Error ? err.message : String(err),
        reason,
        firstFailure: new Date(d.firstFailure ?? failedAt.getTime()),
        lastFailure: failedAt,
        data: msg.data,
        headers: msg.headers,
        dedupKey: `dlq:${member.group}:${origin.stream}:${origin.sequence}`,
      });
      break;
    } catch (pubErr) {
      if (owner.givingUp(d)) return settleNow(owner, d, "left");
      member.onError(pubErr, { stream: origin.stream, sequence: origin.sequence });
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
  member.metrics.count("deadLettered");
  settleNow(owner, d, "dead");
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
export function recordInStore(member: MemberContext, owner: EventOwner, d: Delivery, done: () => void, wait = RETRY_FIRST_MS): void {
  member.store!.record(d.storeKey, (result) => {
    if (!(result instanceof Error)) return done();
    if (owner.givingUp(d)) return owner.settled(d, "left");
    member.onError(result, d.ctx ?? {});
    setTimeout(() => {
      if (owner.givingUp(d)) owner.settled(d, "left");
      else recordInStore(member, owner, d, done, Math.min(wait * 2, RETRY_MAX_MS));
    }, wait);
  });
}
