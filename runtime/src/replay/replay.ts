import type { MessageShape } from "@bufbuild/protobuf";
import type { JsMsg, OrderedConsumerOptions } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import type { EventDefinition, EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { Headers, readPartitionKey } from "../layout/headers.js";
import { keyFromToken, keyToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import { translateNatsError } from "../nats-error.js";
import { decodeEventPayload } from "../confluent/event-payload.js";

/** Where a replay starts: the first event, a stream sequence, or a time. */
export type ReplayFrom = "start" | { sequence: number } | { time: Date };

/** What to read and from where. Filters combine (a key of one type in one partition). */
export interface ReplayOptions {
  /** Start point; default `"start"`. */
  from?: ReplayFrom;
  /** Only this partition. */
  partition?: number;
  /** Only events of this key. */
  key?: string;
  /** Only events of this name (`OrderPlaced`). */
  event?: string;
  /**
   * Keep reading events stored after the replay started; default false:
   * the iterator ends after the last event stored when it started.
   */
  follow?: boolean;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /** Messages asked from the server at once; default 1000. */
  batchSize?: number;
}

/** One stored event as read, before decoding. */
export interface StoredEvent {
  stream: string;
  /** Stored subject, `S.<partition>.<EventName>.<keyToken>`. */
  subject: string;
  /** Stream sequence. */
  sequence: number;
  partition: number;
  /** Event name from the subject (`OrderPlaced`). */
  name: string;
  /** The partition key, verbatim. */
  key: string;
  /** Event id (`ce-id`); empty when the message has none. */
  id: string;
  /** Proto full name (`ce-type`); empty when the message has none. */
  type: string;
  /** Event time (`ce-time`), else the time the server stored it. */
  time: Date;
  /** All headers (first value of each). */
  headers: Record<string, string>;
  /** The protobuf payload. */
  data: Uint8Array;
  /** Events after this one that match the replay's filter, when it was delivered. */
  pending: number;
}

/** A decoded event of a replay: `name` tells which event type `event` is. */
export type ReplayedEvent<E extends EventSchemas> = {
  [K in keyof E & string]: { name: K; event: MessageShape<E[K]>; meta: StoredEvent };
}[keyof E & string];

/** The subject filter of a replay: `S.<partition|*>.<event|*>.<keyToken|*>`. */
export function replayFilter(stream: string, options: Pick<ReplayOptions, "partition" | "key" | "event">): string {
  const p = options.partition === undefined ? "*" : String(options.partition);
  return `${stream}.${p}.${options.event ?? "*"}.${options.key === undefined ? "*" : keyToken(options.key)}`;
}

function startOptions(from: ReplayFrom | undefined): Partial<OrderedConsumerOptions> {
  if (from === undefined || from === "start") return { deliver_policy: "all" as OrderedConsumerOptions["deliver_policy"] };
  if ("sequence" in from) {
    if (!Number.isInteger(from.sequence) || from.sequence < 1) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `replay start sequence must be a positive integer, got ${from.sequence}`, {
        context: { option: "from" },
      });
    }
    return { deliver_policy: "by_start_sequence" as OrderedConsumerOptions["deliver_policy"], opt_start_seq: from.sequence };
  }
  if (Number.isNaN(from.time.getTime()))
    throw new ChronicleError(ErrorCode.InvalidArgument, "replay start time is not a valid date", { context: { option: "from" } });
  return { opt_start_time: from.time.toISOString() };
}

function toStored(stream: string, m: JsMsg): StoredEvent {
  const headers: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) if (v[0] !== undefined) headers[k] = v[0];
  const parsed = layout.parseStored(m.subject);
  const token = parsed?.keyToken ?? "";
  const key = keyFromToken(token) ?? readPartitionKey(headers) ?? "";
  const ceTime = headers[Headers.Time];
  const time = ceTime ? new Date(ceTime) : new Date(m.info.timestampNanos / 1e6);
  return {
    stream,
    subject: m.subject,
    sequence: m.seq,
    partition: parsed?.partition ?? -1,
    name: parsed?.eventName ?? "",
    key,
    id: headers[Headers.Id] ?? "",
    type: headers[Headers.Type] ?? "",
    time: Number.isNaN(time.getTime()) ? new Date(m.info.timestampNanos / 1e6) : time,
    headers,
    data: m.data,
    pending: m.info.pending,
  };
}

/**
 * Reads a stream's stored events in stream order, undecoded, through an
 * ordered consumer: no durable state on the server, no consumer group
 * touched, and the server removes the consumer when the reader stops.
 * Filters by partition, key and event name; starts at the first event, a
 * sequence or a time. Without `follow` the iterator ends after the last
 * matching event stored when the read started. Use it for tools and for
 * events of types the caller cannot decode; {@link replay} decodes.
 *
 * Throws a {@link ChronicleError}: `not_found` when the stream does not
 * exist, `invalid_argument` for a bad start.
 */
export async function* replayStored(conn: ChronicleConnection, stream: string, options: ReplayOptions = {}): AsyncGenerator<StoredEvent> {
  const filter = replayFilter(stream, options);
  // without filters, no filter subject: the server's unfiltered path is several times faster
  const unfiltered = options.partition === undefined && options.key === undefined && options.event === undefined;
  const opts: Partial<OrderedConsumerOptions> = { ...(unfiltered ? {} : { filter_subjects: filter }), ...startOptions(options.from) };
  let consumer;
  // a stream electing a leader (a node lost) answers late or "unavailable" for a few seconds
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      consumer = await conn.js.consumers.get(stream, opts);
      break;
    } catch (err) {
      const e = translateNatsError(err, `reading stream ${stream}`, { stream, subject: filter });
      if ((e.code !== ErrorCode.Timeout && e.code !== ErrorCode.Unavailable) || Date.now() > deadline || options.signal?.aborted) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const follow = options.follow === true;
  const info = await consumer.info(true);
  if (!follow && info.num_pending === 0) {
    await consumer.delete().catch(() => undefined);
    return;
  }
  const messages = await consumer.consume({ max_messages: options.batchSize ?? 1000 });
  const onAbort = () => void messages.stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (options.signal?.aborted) return;
    // the server may start a time-based read a little early (it searches
    // message blocks by time); events stored before the start are skipped
    const notBefore = typeof options.from === "object" && "time" in options.from ? options.from.time.getTime() * 1e6 : 0;
    for await (const m of messages) {
      if (m.info.timestampNanos >= notBefore) {
        yield toStored(stream, m);
        if (options.signal?.aborted) return;
      }
      if (!follow && m.info.pending === 0) return;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
}

/**
 * Reads a stream's events in stream order, decoded into the definition's
 * protobuf-es messages, for rebuilding projections: each item has the event
 * name, the typed event and its metadata (sequence, partition, key, id,
 * time, headers). Per-key order is the stream order. See
 * {@link replayStored} for filters, start points and how the iteration
 * ends. An event whose name the definition does not know, or whose bytes do
 * not decode, throws a {@link ChronicleError} with code `decode_failed`
 * (and its sequence), unless `skipUndecodable` is set.
 */
export async function* replay<E extends EventSchemas>(
  conn: ChronicleConnection,
  definition: StreamDefinition<E>,
  options: ReplayOptions & { skipUndecodable?: boolean } = {},
): AsyncGenerator<ReplayedEvent<E>> {
  const events = definition.events as Record<string, EventDefinition>;
  for await (const stored of replayStored(conn, definition.settings.name, options)) {
    const def = events[stored.name];
    let event: unknown;
    try {
      if (!def) throw new Error(`the definition has no event named ${JSON.stringify(stored.name)}`);
      event = decodeEventPayload(def.schema, stored.data);
    } catch (err) {
      if (options.skipUndecodable) continue;
      throw new ChronicleError(
        ErrorCode.DecodeFailed,
        `cannot decode event ${stored.sequence} of ${stored.stream} (${stored.name}): ${(err as Error).message}`,
        {
          context: { stream: stored.stream, sequence: stored.sequence, subject: stored.subject, eventType: stored.type },
          cause: err,
        },
      );
    }
    yield { name: stored.name, event, meta: stored } as ReplayedEvent<E>;
  }
}
