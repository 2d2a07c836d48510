import type { Msg } from "@nats-io/transport-node";
import type { EventDefinition } from "../definition.js";
import { DeadLetterHeaders } from "../dead-letter/headers.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { safeStoreKey } from "../idempotency/types.js";
import { Headers, readPartitionKey } from "../layout/headers.js";
import { keyFromToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import type { HeaderText } from "../wire/header-text.js";
import type { DeliveryInfo } from "./delivery-info.js";
import type { MemberContext } from "./member-context.js";
import type { EventContext } from "./types.js";
import { decodeEventPayload } from "../confluent/event-payload.js";

/** Where an event was stored: from the message itself, or from a redrive request's headers. @private */
export interface Origin {
  stream: string;
  subject: string;
  sequence: number;
  partition: number;
  eventName: string;
  keyToken: string;
}

/** Reads where a delivered message comes from (`redrive`: a redrive request, whose headers name the original). @private */
export function originOf(m: Msg, headers: HeaderText, redrive: boolean, stream: string, sequence: number): Origin {
  if (redrive) {
    const subject = headers.get(DeadLetterHeaders.Subject) ?? "";
    const parsed = layout.parseStored(subject);
    const parts = m.subject.split(".");
    return {
      stream: headers.get(DeadLetterHeaders.Stream) ?? parsed?.stream ?? "",
      subject,
      sequence: Number(headers.get(DeadLetterHeaders.Sequence) ?? 0),
      partition: Number(headers.get(DeadLetterHeaders.Partition) ?? parsed?.partition ?? 0),
      eventName: parsed?.eventName ?? parts[3] ?? "",
      keyToken: parsed?.keyToken ?? parts[4] ?? "",
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
 * A lookup in a user-supplied idempotency store: `answer` is set when the
 * store answers (an error when it could not); `waiter`, when set, is called
 * then. @private
 */
export interface Lookup {
  answer: boolean | Error | undefined;
  waiter: ((answer: boolean | Error) => void) | undefined;
}

/** Starts a lookup of `storeKey` in the member's store (which must be set). @private */
export function startLookup(member: MemberContext, storeKey: string): Lookup {
  const lookup: Lookup = { answer: undefined, waiter: undefined };
  const answer = (result: boolean | Error) => {
    if (lookup.answer !== undefined) return;
    lookup.answer = result;
    const waiter = lookup.waiter;
    lookup.waiter = undefined;
    waiter?.(result);
  };
  try {
    member.store!.lookup(storeKey, answer);
  } catch (err) {
    queueMicrotask(() => answer(err instanceof Error ? err : new Error(String(err))));
  }
  return lookup;
}

/**
 * Where a delivery is in its slot: waiting in its key's lane, its handler
 * running (or waiting for a retry), handled and waiting for its result to
 * be stored, or settled (nothing more happens to it here).
 * @private
 */
export type DeliveryPhase = "waiting" | "running" | "handled" | "settled";

/** One delivered event, read and decoded when it arrived, before its turn in its key's lane. @private */
export interface Delivery {
  msg: Msg;
  /** From the message's reply subject: stream and consumer sequences, pending count. */
  info: DeliveryInfo;
  origin: Origin;
  /** Its place in the slot's floor tracker. */
  position: number;
  /** The attempt its next handler run is (1 for the first; carried over handovers). */
  attempt: number;
  /** Time of its first failure, ms since the epoch (for the dead letter). */
  firstFailure: number | undefined;
  def: EventDefinition | undefined;
  event: unknown;
  decodeError: ChronicleError | undefined;
  headers: HeaderText;
  /** The partition key: lane of the event. */
  key: string;
  id: string;
  idempotencyKey: string;
  /** The idempotency key as the slot's state remembers it: `<EventName>.<key>` (so two types' keys never collide). */
  stateKey: string;
  /** The key a user-supplied store sees: `<group>.e<epoch>.<EventName>.<key>`. */
  storeKey: string;
  /** A lookup in a user-supplied store, started when the event arrived. */
  lookup: Lookup | undefined;
  /** The handler's context, once its turn came. */
  ctx: EventContext | undefined;
  phase: DeliveryPhase;
  /** Which reading of its slot delivered it (a resync starts another; what an earlier one delivered no longer runs). */
  reading: number;
  /** True while it holds one of the member's `maxUnrecorded` permits. */
  holdsPermit: boolean;
}

/**
 * Reads a delivery when it arrives: decodes it and works its idempotency
 * key out; with a user-supplied store, starts the lookup, so that it is
 * answered by the time the event's turn comes. Never throws.
 * @private
 */
export function readDelivery(member: MemberContext, msg: Msg, info: DeliveryInfo, redrive: boolean): Delivery {
  const headers = member.wire.headers(msg);
  const origin = originOf(msg, headers, redrive, member.stream, info.streamSequence);
  const def = member.definition.events[origin.eventName] as EventDefinition | undefined;
  const delivery: Delivery = {
    msg,
    info,
    origin,
    position: 0,
    attempt: 1,
    firstFailure: undefined,
    def,
    event: undefined,
    decodeError: undefined,
    headers,
    key: "",
    id: "",
    idempotencyKey: "",
    stateKey: "",
    storeKey: "",
    lookup: undefined,
    ctx: undefined,
    phase: "waiting",
    reading: 0,
    holdsPermit: false,
  };
  delivery.key = readPartitionKey(headers) ?? keyFromToken(origin.keyToken) ?? origin.keyToken;
  if (!def) return delivery;
  const ceType = headers.get(Headers.Type);
  try {
    if (ceType && ceType !== def.type) throw new Error(`ce-type ${ceType} does not match ${def.type} of subject ${msg.subject}`);
    delivery.event = decodeEventPayload(def.schema, msg.data);
  } catch (err) {
    delivery.decodeError = new ChronicleError(
      ErrorCode.DecodeFailed,
      `cannot decode ${origin.stream}#${origin.sequence} as ${def.type}: ${(err as Error).message}`,
      {
        cause: err,
        context: { stream: origin.stream, sequence: origin.sequence, subject: origin.subject, eventType: def.type, group: member.group },
      },
    );
    return delivery;
  }
  delivery.id = headers.get(Headers.Id) ?? headers.get(Headers.MsgId) ?? `${origin.stream}-${origin.sequence}`;
  delivery.idempotencyKey = delivery.id;
  try {
    if (def.idempotencyKey) delivery.idempotencyKey = def.idempotencyKey(delivery.event as never);
  } catch {
    // a broken key function falls back to the event id
  }
  delivery.stateKey = `${def.name}.${safeStoreKey(delivery.idempotencyKey)}`;
  if (member.store) {
    delivery.storeKey = `${member.group}.e${member.epoch}.${delivery.stateKey}`;
    delivery.lookup = startLookup(member, delivery.storeKey);
  }
  return delivery;
}
