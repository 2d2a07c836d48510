import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import type { EventDefinition, StreamDefinition } from "../definition.js";
import { DeadLetterHeaders } from "../dead-letter/headers.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import type { StoreOps } from "../idempotency/store-ops.js";
import { safeStoreKey } from "../idempotency/types.js";
import { Headers, readPartitionKey } from "../layout/headers.js";
import { keyFromToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import type { ConsumerMetrics } from "../metrics/consumer-metrics.js";
import type { AckBatch } from "./ack-batch.js";
import type { RecentRecords } from "./recent-records.js";
import type { DeliveryHeaders } from "./delivery-headers.js";
import { readDeliveryInfo, type DeliveryInfo } from "./delivery-info.js";
import { readHeaders } from "./read-headers.js";
import type { RetryPolicy } from "./retry.js";
import type { EventContext, EventHandler } from "./types.js";

/** State shared by every partition worker of one member. @private */
export interface MemberRuntime {
  conn: ChronicleConnection;
  definition: StreamDefinition;
  stream: string;
  group: string;
  handlers: Readonly<Record<string, EventHandler<never> | undefined>>;
  /** The idempotency store's lookups and records, in callback form. */
  store: StoreOps;
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

/** Reads where a delivered message of `stream` (at `sequence`) comes from. @private */
export function originOf(m: JsMsg, redrive: boolean, stream: string, sequence: number): Origin {
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
    stream,
    subject: m.subject,
    sequence,
    partition: parsed?.partition ?? 0,
    eventName: parsed?.eventName ?? "",
    keyToken: parsed?.keyToken ?? "",
  };
}

/**
 * An idempotency-store lookup, stamped with {@link RecentRecords.stamp}
 * when issued. `answer` is set when the store answers (an error when it
 * could not); `waiter`, when set, is called then. @private
 */
export interface Lookup {
  stamp: number;
  answer: boolean | Error | undefined;
  waiter: ((answer: boolean | Error) => void) | undefined;
}

/** Starts a lookup of `storeKey`. @private */
export function startLookup(rt: MemberRuntime, storeKey: string): Lookup {
  const lookup: Lookup = { stamp: rt.recent.stamp(), answer: undefined, waiter: undefined };
  const answer = (result: boolean | Error) => {
    if (lookup.answer !== undefined) return;
    lookup.answer = result;
    const waiter = lookup.waiter;
    lookup.waiter = undefined;
    waiter?.(result);
  };
  try {
    rt.store.lookup(storeKey, answer);
  } catch (err) {
    queueMicrotask(() => answer(err instanceof Error ? err : new Error(String(err))));
  }
  return lookup;
}

/** A delivery read and decoded when it arrived, before its turn in its key's lane. @private */
export interface Delivery {
  m: JsMsg;
  /** From the message's ack subject: its sequence in the stream it was read from, delivery count, pending count. */
  info: DeliveryInfo;
  origin: Origin;
  attempt: number;
  def: EventDefinition | undefined;
  event: unknown;
  decodeError: ChronicleError | undefined;
  headers: DeliveryHeaders;
  key: string;
  id: string;
  idempotencyKey: string;
  storeKey: string;
  /** Lookup started when the event arrived (first deliveries only). */
  lookup: Lookup | undefined;
  /** The lane (per partition key) the event waits in, set by its worker. */
  laneKey: string;
  /** The handler's context, once its turn came. */
  ctx: EventContext | undefined;
  /** 0 waiting or running, 1 released (handler done), 2 settled: guards the worker against a second report. */
  stage: 0 | 1 | 2;
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
  const info: DeliveryInfo = readDeliveryInfo((m as unknown as { reply?: string }).reply ?? "") ?? m.info;
  const origin = originOf(m, redrive, rt.stream, info.streamSequence);
  const attempt = info.deliveryCount;
  const def = rt.definition.events[origin.eventName] as EventDefinition | undefined;
  const headers = readHeaders(m);
  const d: Delivery = {
    m,
    info,
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
    laneKey: "",
    ctx: undefined,
    stage: 0,
  };
  if (!def) return d;
  const ceType = headers.get(Headers.Type);
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
  d.id = headers.get(Headers.Id) ?? headers.get(Headers.MsgId) ?? `${origin.stream}-${origin.sequence}`;
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
