import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import type { EventDefinition, StreamDefinition } from "../definition.js";
import { DeadLetterHeaders, type DeadLetterReason } from "../dead-letter/headers.js";
import { publishDeadLetter } from "../dead-letter/publish.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { safeStoreKey, type IdempotencyStore } from "../idempotency/types.js";
import { Headers } from "../layout/headers.js";
import { keyFromToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import type { ConsumerMetrics } from "../metrics/consumer-metrics.js";
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

function headerRecord(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.headers) for (const k of m.headers.keys()) out[k] = m.headers.get(k);
  return out;
}

/**
 * Runs one delivery through the idempotent pipeline: decode (dead-letter at
 * once when impossible), look the idempotency key up (ack and skip when
 * done), run the handler, record the key, ack. A failure is retried with a
 * delayed nak until the policy's attempts are used, then dead-lettered and
 * terminated. Never throws.
 * @private
 */
export async function handleMessage(rt: MemberRuntime, m: JsMsg, origin: Origin): Promise<Outcome> {
  const attempt = m.info.deliveryCount;
  const def = rt.definition.events[origin.eventName] as EventDefinition | undefined;
  if (!def) {
    // An event type this code does not know (a newer producer): not ours to fail on.
    m.ack();
    rt.metrics.count("skipped");
    return { kind: "skipped" };
  }
  const ceType = m.headers?.get(Headers.Type);
  let event: unknown;
  try {
    if (ceType && ceType !== def.type) throw new Error(`ce-type ${ceType} does not match ${def.type} of subject ${m.subject}`);
    event = fromBinary(def.schema, m.data);
  } catch (err) {
    const e = new ChronicleError(ErrorCode.DecodeFailed, `cannot decode ${origin.stream}#${origin.sequence} as ${def.type}: ${(err as Error).message}`, {
      cause: err,
      context: { stream: origin.stream, sequence: origin.sequence, subject: origin.subject, eventType: def.type, group: rt.group },
    });
    rt.onError(e, { stream: origin.stream, sequence: origin.sequence, subject: origin.subject });
    return deadLetter(rt, m, origin, attempt, e, "decode_failed");
  }
  const headers = headerRecord(m);
  const key = headers[Headers.PartitionKey] ?? keyFromToken(origin.keyToken) ?? origin.keyToken;
  const id = headers[Headers.Id] ?? headers[Headers.MsgId] ?? `${origin.stream}-${origin.sequence}`;
  let idempotencyKey = id;
  try {
    if (def.idempotencyKey) idempotencyKey = def.idempotencyKey(event as never);
  } catch {
    // a broken key function falls back to the event id
  }
  const storeKey = `${rt.group}.e${rt.epoch}.${safeStoreKey(idempotencyKey)}`;
  try {
    if (await rt.store.isDone(storeKey)) {
      m.ack();
      rt.metrics.count("duplicates");
      return { kind: "duplicate" };
    }
  } catch (err) {
    // The store is unreachable: try again soon without burning an attempt's worth of backoff.
    rt.onError(err, { stream: origin.stream, sequence: origin.sequence });
    m.nak(1000);
    return { kind: "retry", delayMs: 1000 };
  }
  const handler = rt.handlers[origin.eventName];
  if (!handler) {
    m.ack();
    rt.metrics.count("skipped");
    return { kind: "skipped" };
  }
  const timeHeader = headers[Headers.Time];
  const ctx: EventContext = {
    id,
    type: def.type,
    name: origin.eventName,
    key,
    idempotencyKey,
    stream: origin.stream,
    subject: origin.subject,
    partition: origin.partition,
    sequence: origin.sequence,
    attempt,
    time: timeHeader ? new Date(timeHeader) : new Date(Math.floor(Number(m.info.timestampNanos) / 1e6)),
    headers,
    signal: rt.signal,
  };
  const started = performance.now();
  try {
    await (handler as EventHandler<unknown>)(event, ctx);
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
  try {
    await rt.store.markDone(storeKey);
  } catch (err) {
    // The effect happened but is not recorded: ack anyway (a redelivery is
    // unlikely once acked); docs/delivery.md states this window.
    rt.onError(err, ctx);
  }
  m.ack();
  rt.firstFailures.delete(`${origin.stream}:${origin.sequence}`);
  rt.metrics.count("handled");
  return { kind: "acked" };
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
