import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import type { EventDefinition, StreamDefinition } from "../definition.js";
import { DeadLetterHeaders, type DeadLetterReason } from "../dead-letter/headers.js";
import { publishDeadLetter } from "../dead-letter/publish.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { safeStoreKey, type IdempotencyStore } from "../idempotency/types.js";
import { Headers, readPartitionKey } from "../layout/headers.js";
import { keyFromToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import type { ConsumerMetrics } from "../metrics/consumer-metrics.js";
import type { AckBatch } from "./ack-batch.js";
import type { RecentRecords } from "./recent-records.js";
import { readHeaders } from "./read-headers.js";
import { isNonRetryable, retryDelayMs, type RetryPolicy } from "./retry.js";
import type { EventContext, EventHandler } from "./types.js";

/** State shared by every partition worker of one member. @private */
export interface MemberRuntime {
  conn: ChronicleConnection;
  definition: StreamDefinition;
  stream: string;
  group: string;
  handlers: Readonly<Record<string, EventHandler<never> | undefined>>;
  store: IdempotencyStore;
  epoch: number;
  retry: RetryPolicy;
  metrics: ConsumerMetrics;
  signal: AbortSignal;
  /** First failure time per `stream:sequence`, for dead-letter headers. */
  firstFailures: Map<string, Date>;
  /** Idempotency keys this member handled lately, to close the gap between a lookup and a record in flight. */
  recent: RecentRecords;
  /** Acks of this member, sent once per event-loop turn. */
  acks: AckBatch;
  onError: (err: unknown, ctx: Partial<EventContext>) => void;
}

/** Where an event was stored: from the message itself, or from a redrive request's headers. @private */
export interface Origin {
  stream: string;
  subject: string;
  sequence: number;
  partition: number;
  eventName: string;
  keyToken: string;
}

/** What became of one delivery. @private */
export type Outcome = { kind: "acked" | "duplicate" | "skipped" | "dead" | "left" } | { kind: "retry"; delayMs: number };

/** Reads where a delivered message comes from. @private */
export function originOf(m: JsMsg, redrive: boolean): Origin {
  if (redrive) {
    const subject = m.headers?.get(DeadLetterHeaders.Subject) ?? "";
    const parsed = layout.parseStored(subject);
    return {
      stream: m.headers?.get(DeadLetterHeaders.Stream) ?? parsed?.stream ?? "",
      subject,
      sequence: Number(m.headers?.get(DeadLetterHeaders.Sequence) ?? 0),
      partition: Number(m.headers?.get(DeadLetterHeaders.Partition) ?? parsed?.partition ?? 0),
      eventName: parsed?.eventName ?? m.subject.split(".")[3] ?? "",
      keyToken: parsed?.keyToken ?? m.subject.split(".")[4] ?? "",
    };
  }
  const parsed = layout.parseStored(m.subject);
  return {
    stream: m.info.stream,
    subject: m.subject,
    sequence: m.seq,
    partition: parsed?.partition ?? 0,
    eventName: parsed?.eventName ?? "",
    keyToken: parsed?.keyToken ?? "",
  };
}

/** A delivery read and decoded when it arrived, before its turn in its key's lane. @private */
export interface Delivery {
  m: JsMsg;
  origin: Origin;
  attempt: number;
  def: EventDefinition | undefined;
  event: unknown;
  decodeError: ChronicleError | undefined;
  headers: Record<string, string>;
  key: string;
  id: string;
  idempotencyKey: string;
  storeKey: string;
  /** Lookup started when the event arrived (first deliveries only). */
  lookup: Lookup | undefined;
}

/** An idempotency-store lookup in flight, stamped with {@link RecentRecords.stamp} when issued. @private */
export interface Lookup {
  stamp: number;
  result: Promise<boolean | { error: unknown }>;
}

/** What became of one delivery; `recorded` settles once the record is stored (or failed) and the event acknowledged. @private */
export type HandledOutcome = Outcome & { recorded?: Promise<void> };

/** Starts a lookup of `storeKey`; never rejects. @private */
export function startLookup(rt: MemberRuntime, storeKey: string): Lookup {
  const stamp = rt.recent.stamp();
  let result: Lookup["result"];
  try {
    result = rt.store.isDone(storeKey).then(
      (done) => done,
      (error: unknown) => ({ error }),
    );
  } catch (error) {
    result = Promise.resolve({ error });
  }
  return { stamp, result };
}

/**
 * Reads a delivery at once when it arrives: decodes it, works its
 * idempotency key out and, for a first delivery, starts the store lookup so
 * that it is answered by the time the event's turn comes. A redelivery is
 * looked up only when its turn comes, just before its handler, as before
 * (it may race with another member's record during a rebalance). Never throws.
 * @private
 */
export function prepareDelivery(rt: MemberRuntime, m: JsMsg, redrive: boolean): Delivery {
  const origin = originOf(m, redrive);
  const attempt = m.info.deliveryCount;
  const def = rt.definition.events[origin.eventName] as EventDefinition | undefined;
  const headers = readHeaders(m);
  const d: Delivery = {
    m,
    origin,
    attempt,
    def,
    event: undefined,
    decodeError: undefined,
    headers,
    key: "",
    id: "",
    idempotencyKey: "",
    storeKey: "",
    lookup: undefined,
  };
  if (!def) return d;
  const ceType = headers[Headers.Type];
  try {
    if (ceType && ceType !== def.type) throw new Error(`ce-type ${ceType} does not match ${def.type} of subject ${m.subject}`);
    d.event = fromBinary(def.schema, m.data);
  } catch (err) {
    d.decodeError = new ChronicleError(ErrorCode.DecodeFailed, `cannot decode ${origin.stream}#${origin.sequence} as ${def.type}: ${(err as Error).message}`, {
      cause: err,
      context: { stream: origin.stream, sequence: origin.sequence, subject: origin.subject, eventType: def.type, group: rt.group },
    });
    return d;
  }
  d.key = readPartitionKey(headers) ?? keyFromToken(origin.keyToken) ?? origin.keyToken;
  d.id = headers[Headers.Id] ?? headers[Headers.MsgId] ?? `${origin.stream}-${origin.sequence}`;
  d.idempotencyKey = d.id;
  try {
    if (def.idempotencyKey) d.idempotencyKey = def.idempotencyKey(d.event as never);
  } catch {
    // a broken key function falls back to the event id
  }
  // the event name keeps two types' keys apart (an order id may equal a payment id)
  d.storeKey = `${rt.group}.e${rt.epoch}.${def.name}.${safeStoreKey(d.idempotencyKey)}`;
  if (attempt === 1) d.lookup = startLookup(rt, d.storeKey);
  return d;
}

/**
 * Runs one delivery through the idempotent pipeline: decode (dead-letter at
 * once when impossible), look the idempotency key up (ack and skip when
 * done), run the handler, record the key, ack. A failure is retried with a
 * delayed nak until the policy's attempts are used, then dead-lettered and
 * terminated. Never throws.
 *
 * Returns as soon as the handler succeeded, so that the key's next event can
 * start; the record and then the ack happen in `recorded`. The lookup
 * answer is trusted only together with {@link RecentRecords}: an event whose
 * idempotency key this member handled after the lookup was issued (a
 * re-published duplicate right behind its original) is a duplicate too.
 * @private
 */
export async function handleDelivery(rt: MemberRuntime, d: Delivery): Promise<HandledOutcome> {
  const { m, origin, attempt, def } = d;
  if (!def) {
    // An event type this code does not know (a newer producer): not ours to fail on.
    m.ack();
    rt.metrics.count("skipped");
    return { kind: "skipped" };
  }
  if (d.decodeError) {
    rt.onError(d.decodeError, { stream: origin.stream, sequence: origin.sequence, subject: origin.subject });
    return deadLetter(rt, m, origin, attempt, d.decodeError, "decode_failed");
  }
  const storeKey = d.storeKey;
  const answer = await lookUpUntilAnswered(rt, d);
  if (!answer) return { kind: "left" };
  const [done, lookup] = answer;
  if (done || rt.recent.doneSince(storeKey, lookup.stamp)) {
    rt.acks.ack(m);
    rt.metrics.count("duplicates");
    return { kind: "duplicate" };
  }
  const handler = rt.handlers[origin.eventName];
  if (!handler) {
    m.ack();
    rt.metrics.count("skipped");
    return { kind: "skipped" };
  }
  const timeHeader = d.headers[Headers.Time];
  const ctx: EventContext = {
    id: d.id,
    type: def.type,
    name: origin.eventName,
    key: d.key,
    idempotencyKey: d.idempotencyKey,
    stream: origin.stream,
    subject: origin.subject,
    partition: origin.partition,
    sequence: origin.sequence,
    attempt,
    time: timeHeader ? new Date(timeHeader) : new Date(Math.floor(m.info.timestampNanos / 1e6)),
    headers: d.headers,
    signal: rt.signal,
  };
  const started = performance.now();
  try {
    await (handler as EventHandler<unknown>)(d.event, ctx);
  } catch (err) {
    rt.metrics.count("failed");
    if (rt.signal.aborted) {
      // Stopping: leave it unacknowledged for the next owner rather than count an attempt as failed.
      return { kind: "left" };
    }
    rt.onError(err, ctx);
    const failKey = `${origin.stream}:${origin.sequence}`;
    if (!rt.firstFailures.has(failKey)) rt.firstFailures.set(failKey, new Date());
    if (isNonRetryable(err)) return deadLetter(rt, m, origin, attempt, err, "non_retryable");
    if (attempt >= rt.retry.maxAttempts) return deadLetter(rt, m, origin, attempt, err, "attempts_exhausted");
    const delayMs = retryDelayMs(rt.retry, attempt);
    m.nak(delayMs);
    rt.metrics.count("retried");
    return { kind: "retry", delayMs };
  }
  rt.metrics.latency(performance.now() - started);
  rt.recent.handled(storeKey);
  if (rt.firstFailures.size > 0) rt.firstFailures.delete(`${origin.stream}:${origin.sequence}`);
  const acked = () => {
    rt.recent.recorded(storeKey);
    rt.acks.ack(m);
    rt.metrics.count("handled");
  };
  const recorded = recordThenAck(rt, storeKey, ctx, acked);
  return { kind: "acked", recorded };
}

const RECORD_RETRY_FIRST_MS = 250;
const RECORD_RETRY_MAX_MS = 5000;

/**
 * Answers whether the event's idempotency key is recorded, with the lookup
 * that answered (its stamp dates the answer). The lookup started when the
 * event arrived is used when it is still fresh and answered; one that
 * failed (it was in flight when the server went away) is asked again. While
 * the store does not answer, the lookup is retried in place with backoff,
 * the event held (and kept alive) in its lane: a nak would wait for a
 * redelivery that a server restart can leave in this lane's own queue.
 * Returns undefined only when the member stops first.
 */
async function lookUpUntilAnswered(rt: MemberRuntime, d: Delivery): Promise<[boolean, Lookup] | undefined> {
  const early = d.lookup && !rt.recent.stale(d.lookup.stamp) ? d.lookup : undefined;
  d.lookup = undefined;
  let lookup = early ?? startLookup(rt, d.storeKey);
  let wait = RECORD_RETRY_FIRST_MS;
  for (;;) {
    const done = await lookup.result;
    if (typeof done === "boolean") return [done, lookup];
    if (rt.signal.aborted) return undefined;
    rt.onError(done.error, { stream: d.origin.stream, sequence: d.origin.sequence });
    // An early lookup's failure is old news: ask again at once. One made now failed now: back off.
    if (lookup !== early) {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS);
      if (rt.signal.aborted) return undefined;
    }
    lookup = startLookup(rt, d.storeKey);
  }
}

/**
 * Stores the record of a handled event, then acks it. The effect has
 * happened, so a record that fails (the store or the server is down, as
 * during a NATS restart) is retried until it is stored: acking without it
 * would let the redelivery that follows a lost ack run the handler again.
 * While it retries, the event keeps its concurrency slot, so a store outage
 * stops the member taking new work. Only a member that is stopping gives up,
 * leaving the event unacknowledged for the next owner (the window
 * docs/delivery.md states).
 */
async function recordThenAck(rt: MemberRuntime, storeKey: string, ctx: EventContext, acked: () => void): Promise<void> {
  let wait = RECORD_RETRY_FIRST_MS;
  for (;;) {
    try {
      await rt.store.markDone(storeKey);
      acked();
      return;
    } catch (err) {
      rt.onError(err, ctx);
      if (rt.signal.aborted) return;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS);
      if (rt.signal.aborted) return;
    }
  }
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
