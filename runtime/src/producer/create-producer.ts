import { create, isMessage, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { createInbox, errors, nuid, type Msg, type MsgHdrs, type PublishOptions as NatsPublishOptions, type Subscription } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import type { EventDefinition, EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode, isChronicleError } from "../errors.js";
import { Headers, PARTITION_KEY_ENCODING, PROTOBUF_CONTENT_TYPE, dataSchemaUri } from "../layout/headers.js";
import { keyToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import { translateNatsError } from "../nats-error.js";
import { traceContextHeaders } from "../tracing/propagation.js";
import { compileFastEncoder, type FastEncoder } from "./fast-encode.js";
import { CRLF, frameSinkOf, type FrameSink } from "../frame-sink.js";
import { frameHeadRoom, writeFrameHead } from "./frame.js";
import { HeaderBlockWriter, headerBytes, headerLine, headerPrefix, headerSafe, SMALL_COPY_BYTES, validHeaderName } from "./header-block.js";
import { fastAckSequence, parseAck, pubAckPrefix } from "./pub-ack.js";
import type { CloseReport, EventInput, Producer, ProducerOptions, PublishOptions, PublishResult } from "./types.js";

/** Header naming the last-sequence filter of an optimistic-concurrency publish. @private */
export const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";
/** @private */
export const EXPECTED_LAST_SUBJECT_SEQ_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject";

const MAX_FAILURES_KEPT = 10_000;
/** After a reconnect, "no responders" is taken for a stream still recovering, for this long. */
const RECOVERY_GRACE_MS = 30_000;
const RETRY_BACKOFF_MS = 250;

const noop = () => undefined;

/**
 * One publish in flight. The header block was written once as bytes, and a
 * retry sends the same bytes: in a frame of its own (see `frame.ts`), or,
 * where nats.js's protocol handler cannot be used, through `nc.publish`
 * with the entry as the `MsgHdrs` (whose publish only calls `encode()`).
 *
 * The header block and the encoded event (unless `toBinary` encoded it and
 * it is large) lie side by side in a slab of the producer's
 * {@link HeaderBlockWriter}; the entry keeps their positions, and makes the
 * views nats.js needs only when sending. Thousands
 * of entries are in flight at once and live until their acks: every object
 * an entry keeps is one the garbage collector copies or marks, which cost
 * more than anything else the producer does per event. For the same reason
 * its times are {@link Stamp}s shared with the entries sent at the same time,
 * not numbers of its own (a `Date.now()` value in a field is a heap number).
 */
class Entry {
  /** Reply token of the latest attempt (0: not sent yet). */
  token = 0;
  attempts = 0;
  /** When the latest attempt was sent. */
  sent: Stamp = NOT_SENT;
  /** When the first attempt was sent: the publish timeout counts from it. */
  first: Stamp = NOT_SENT;
  /** When set, waiting (out of the window of acks) to be sent again at this time; {@link PARKED} while the stream is looked up. */
  retry: Stamp | undefined = undefined;
  /**
   * Settles the publish's promise: with a result, or with a rejected promise
   * for a failure (the reject function is not kept: one object less per
   * entry in flight).
   */
  resolve: (r: PublishResult | PromiseLike<never>) => void = noop;

  constructor(
    /** The event's key: subject, partition, frame prefix. */
    readonly key: KeyInfo,
    /**
     * The slab holding room for the first frame head before `headerStart`,
     * the header block up to `headerEnd`, then (unless {@link large}) the
     * payload up to `payloadEnd` and CR LF.
     */
    readonly slab: Uint8Array,
    readonly headerStart: number,
    readonly headerEnd: number,
    readonly payloadEnd: number,
    /** The encoded event when `toBinary` encoded it and it is over `SMALL_COPY_BYTES` (not copied into the slab). */
    readonly large: Uint8Array | undefined,
    readonly dedupKey: string,
    readonly id: string,
  ) {}

  get subject(): string {
    return this.key.subject;
  }

  get partition(): number {
    return this.key.partition;
  }

  /** The encoded event. */
  payload(): Uint8Array {
    return this.large ?? this.slab.subarray(this.headerEnd, this.payloadEnd);
  }

  /** The header block, for nats.js. */
  encode(): Uint8Array {
    return this.slab.subarray(this.headerStart, this.headerEnd);
  }
}

/** A time (`Date.now()`), one object shared by the entries sent together. */
interface Stamp {
  readonly at: number;
}

const NOT_SENT: Stamp = Object.freeze({ at: 0 });
/** The retry time of an entry waiting for a stream lookup: never due by time. */
const PARKED: Stamp = Object.freeze({ at: Infinity });

/** What the producer keeps per event type: computed on its first publish. */
interface EventType {
  def: EventDefinition;
  /** `NATS/1.0` and the CloudEvents lines that are the same for every event of the type, encoded. */
  headerPrefix: Uint8Array;
  /** {@link timedPrefix} of the millisecond {@link timedAt}. */
  timed: Uint8Array;
  timedAt: number;
  /** `<stream>.<EventName>.` */
  subjectPrefix: string;
  /** Writes the type's events straight into the slab, when their fields are all of the plain kinds it handles. */
  encoder: FastEncoder | undefined;
  /** Recently published keys: their subject, partition and header lines. */
  keys: Map<string, KeyInfo>;
}

const ID_NAME = `${Headers.Id}: `;

/** What a key contributes to a publish, the same for every event of the key and type. */
interface KeyInfo {
  /** `<stream>.<EventName>.<keyToken>` */
  subject: string;
  partition: number;
  /** `HPUB <subject> `, encoded: the start of the key's frames. */
  framePrefix: Uint8Array;
  /** CR LF (the end of the `Nats-Msg-Id` line), then `ce-partitionkey` (and its encoding, when percent-encoded), encoded. */
  keyLines: Uint8Array;
}

/**
 * Events the fast encoder may take, at most (bytes): it writes them straight
 * into the slab, sparing `toBinary`'s buffers and a copy. Larger ones, or
 * ones it cannot encode, are encoded by `toBinary` and copied into the slab
 * only up to `SMALL_COPY_BYTES`.
 */
const FAST_ENCODE_MAX_BYTES = 32 * 1024;

/** Keys (of up to 256 characters) kept per event type; the map starts over when full. */
const MAX_KEYS_CACHED = 10_000;

const NO_OPTIONS: PublishOptions = Object.freeze({});

/** `a` then `b`. */
function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The `ce-time` line of `time`, then the start of the `ce-id` line, encoded. */
function timeLines(time: Date): Uint8Array {
  return headerBytes(headerLine(Headers.Time, time.toISOString()) + ID_NAME);
}

/** The start of a header block of the type's events published now: its {@link EventType.headerPrefix} and {@link timeLines}, made once per millisecond. */
function timedPrefix(type: EventType): Uint8Array {
  const ms = Date.now();
  if (ms !== type.timedAt) {
    type.timedAt = ms;
    type.timed = concatBytes(type.headerPrefix, timeLines(new Date(ms)));
  }
  return type.timed;
}

/** Between the event id and the dedup key: CR LF and `Nats-Msg-Id: `. */
const MSG_ID_LINE = headerBytes(`\r\n${Headers.MsgId}: `);

/** FNV-1a 32 of a string of ASCII characters (every key token is), without encoding it first. */
function fnv1a32Ascii(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

class PipelinedProducer<E extends EventSchemas> implements Producer<E> {
  private readonly stream: string;
  private readonly partitions: number;
  private readonly source: string;
  private readonly schemaRegistryUrl: string | undefined;
  private readonly maxInFlight: number;
  private readonly ackTimeoutMs: number;
  private readonly publishTimeoutMs: number;
  private readonly tracing: boolean;
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** Entries by reply token of their latest attempt, in send order. */
  private readonly entries = new Map<number, Entry>();
  /** Entries waiting out a back-off (or a stream check) before being sent again. */
  private readonly backoff = new Set<Entry>();
  /** Prepared publishes waiting for a slot in the window, oldest first from `blockedHead`. */
  private blocked: Entry[] = [];
  private blockedHead = 0;
  private outbox: Entry[] = [];
  private outboxScheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly failures: { dedupKey: string; error: Error }[] = [];
  private readonly sweeper: ReturnType<typeof setInterval>;
  private slots = 0;
  private counter = 0;
  /** The reply token of the last send before the latest disconnect: entries up to it may have lost their message or ack. */
  private sentBeforeDisconnect = 0;
  private lastReconnectAt = 0;
  private acknowledged = 0;
  private closed = false;
  private closing: Promise<CloseReport> | undefined;
  private streamCheck: Promise<boolean> | undefined;
  private readonly types = new Map<string, EventType>();
  private readonly headerWriter = new HeaderBlockWriter();
  /** `{"stream":"<stream>","seq":`: the start of every ordinary ack. */
  private readonly ackPrefix: Uint8Array;
  /** nats.js's protocol handler, to send whole frames through; undefined: publish with `nc.publish`. */
  private readonly sink: FrameSink | undefined;
  /** `<inbox>.`, encoded: the reply subject of a frame, less its token. */
  private readonly frameReply: Uint8Array;
  /** Reused for every nats.js publish (it reads `reply` and `headers`, and sets `reply` only when missing). */
  private readonly pubOpts: NatsPublishOptions = { reply: "" };
  /** The entry whose promise {@link attach} is creating. */
  private attaching: Entry | undefined;
  /** One executor for every publish's promise, instead of a new closure per publish. */
  private readonly attach = (resolve: (r: PublishResult | PromiseLike<PublishResult>) => void): void => {
    this.attaching!.resolve = resolve;
  };
  private statusIter: (AsyncIterable<unknown> & { stop?: () => void }) | undefined;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly definition: StreamDefinition<E>,
    options: ProducerOptions,
  ) {
    this.stream = definition.settings.name;
    this.partitions = definition.settings.partitions;
    this.source = options.source ?? `/chronicle/${this.stream}`;
    this.schemaRegistryUrl = options.schemaRegistryUrl;
    if (this.schemaRegistryUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(this.schemaRegistryUrl)) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `schemaRegistryUrl ${JSON.stringify(this.schemaRegistryUrl)} must be an http(s) URL`, {
        context: { stream: this.stream, option: "schemaRegistryUrl" },
      });
    }
    this.maxInFlight = options.maxInFlight ?? 5000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? Math.min(60_000, definition.settings.duplicateWindowMs);
    this.tracing = options.tracing ?? true;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `maxInFlight must be a positive integer, got ${this.maxInFlight}`, {
        context: { stream: this.stream, option: "maxInFlight" },
      });
    }
    if (!headerSafe(this.source) || this.source.length === 0) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `source ${JSON.stringify(this.source)} must be a non-empty URI reference`, {
        context: { stream: this.stream, option: "source" },
      });
    }
    this.ackPrefix = pubAckPrefix(this.stream);
    const nc = conn.nc;
    this.inbox = createInbox((nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.sink = frameSinkOf(nc);
    this.frameReply = headerBytes(`${this.inbox}.`);
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(250, this.ackTimeoutMs / 4)));
    this.sweeper.unref?.();
    void this.watchStatus();
    void nc
      .closed()
      .then(() =>
        this.failAll(
          new ChronicleError(ErrorCode.Closed, "the NATS connection closed before the event was acknowledged", { context: { stream: this.stream } }),
        ),
      );
  }

  private async watchStatus(): Promise<void> {
    const iter = this.conn.nc.status() as AsyncIterable<{ type: string; error?: unknown }> & { stop?: () => void };
    this.statusIter = iter;
    try {
      for await (const s of iter) {
        if (s.type === "disconnect") this.sentBeforeDisconnect = this.counter;
        else if (s.type === "reconnect") {
          this.lastReconnectAt = Date.now();
          this.resendLost();
        } else if (s.type === "error" && s.error instanceof errors.PermissionViolationError && s.error.operation === "publish") {
          this.failRefused(s.error.subject, s.error.message);
        }
      }
    } catch {
      // the connection closed
    }
  }

  /**
   * The server refused to let this connection publish to `subject`: the
   * message was dropped, so its publishes fail at once with
   * `permission_denied` instead of waiting for acks that never come.
   */
  private failRefused(subject: string, reason: string): void {
    const refused: Entry[] = [];
    for (const e of this.entries.values()) if (e.subject === subject) refused.push(e);
    for (const e of refused) {
      this.settle(
        e,
        new ChronicleError(ErrorCode.PermissionDenied, `the server refused to let this connection publish to ${subject}: ${reason}`, {
          context: { stream: this.stream, subject },
        }),
      );
    }
  }

  /** Sends again every entry last sent before the latest disconnect: its message or its ack may be lost. */
  private resendLost(): void {
    const lost: Entry[] = [];
    for (const e of this.entries.values()) if (e.token <= this.sentBeforeDisconnect && e.retry === undefined) lost.push(e);
    const now: Stamp = { at: Date.now() };
    for (const e of lost) this.send(e, now);
  }

  publish<K extends keyof E & string>(name: K, event: EventInput<E[K]>, options: PublishOptions = NO_OPTIONS): Promise<PublishResult> {
    if (this.closed) return Promise.reject(new ChronicleError(ErrorCode.Closed, "the producer is closed", { context: { stream: this.stream } }));
    let entry: Entry;
    try {
      entry = this.prepare(name, event, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.attaching = entry;
    const promise = new Promise<PublishResult>(this.attach);
    this.attaching = undefined;
    if (this.slots < this.maxInFlight) {
      this.slots++;
      this.enqueue(entry);
    } else this.blocked.push(entry); // backpressure: waits for a slot
    return promise;
  }

  /**
   * Queues a first send for the next turn of the event loop. Publishes made
   * in many microtasks (a caller awaiting each result in turn) then leave in
   * one batch and one socket write, instead of one write each. The publish
   * timeout counts from that first send.
   */
  private enqueue(e: Entry): void {
    this.outbox.push(e);
    if (!this.outboxScheduled) {
      this.outboxScheduled = true;
      setImmediate(this.drainOutbox);
    }
  }

  private readonly drainOutbox = (): void => {
    this.outboxScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    const now: Stamp = { at: Date.now() };
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      e.first = now;
      this.send(e, now);
    }
  };

  async publishBatch<K extends keyof E & string>(items: readonly { name: K; event: EventInput<E[K]>; options?: PublishOptions }[]): Promise<PublishResult[]> {
    const settled = await Promise.allSettled(items.map((it) => this.publish(it.name, it.event, it.options)));
    const results: PublishResult[] = [];
    for (let i = 0; i < settled.length; i++) {
      const s = settled[i]!;
      if (s.status === "rejected") {
        const failed = settled.filter((x) => x.status === "rejected").length;
        const err = s.reason as Error;
        throw new ChronicleError(
          isChronicleError(err) ? err.code : ErrorCode.Internal,
          `${failed} of ${items.length} events of the batch failed; the first (index ${i}): ${err.message}`,
          { context: { stream: this.stream, index: i, failed }, cause: err },
        );
      }
      results.push(s.value);
    }
    return results;
  }

  private prepare(name: string, event: unknown, options: PublishOptions): Entry {
    const type = this.types.get(name) ?? this.eventType(name);
    const def = type.def;
    const schema: DescMessage = def.schema;
    const msg = isMessage(event, schema) ? event : create(schema, event as never);
    // the encoded size, at most (fast encoder), or the bytes toBinary encoded
    let most = type.encoder ? type.encoder.bound(msg as unknown as Record<string, unknown>) : -1;
    let encoded: Uint8Array | undefined;
    if (most < 0 || most > FAST_ENCODE_MAX_BYTES) {
      encoded = toBinary(schema, msg as Message);
      most = encoded.length > SMALL_COPY_BYTES ? 0 : encoded.length;
    }
    const key = def.key(msg as never);
    const k = type.keys.get(key) ?? this.keyInfo(type, key);
    // generated ids (NUIDs) and plain key tokens are header-safe: skip the checks for them
    const id = options.id ?? nuid.next();
    const dedupKey = options.dedupKey ?? (def.idempotencyKey ? def.idempotencyKey(msg as never) : id);
    if (dedupKey !== id || options.id !== undefined) {
      if (!headerSafe(dedupKey) || dedupKey.length === 0) {
        throw new ChronicleError(
          ErrorCode.InvalidArgument,
          `dedup key ${JSON.stringify(dedupKey)} must be non-empty, without CR/LF or white space at its ends`,
          {
            context: { stream: this.stream, key },
          },
        );
      }
    }
    const idValue = options.id === undefined || headerSafe(id) ? id : encodeURIComponent(id);
    const start = options.time ? concatBytes(type.headerPrefix, timeLines(options.time)) : timedPrefix(type);
    // the rarer lines, as text
    let extra = "";
    if (options.expectedLastSequence !== undefined) {
      extra += headerLine(EXPECTED_LAST_SUBJECT_SEQ, String(options.expectedLastSequence));
      extra += headerLine(EXPECTED_LAST_SUBJECT_SEQ_SUBJECT, layout.keyFilter(this.stream, key));
    }
    const trace = this.tracing ? traceContextHeaders() : undefined;
    if (trace) for (const [k, v] of Object.entries(trace)) if (validHeaderName(k) && headerSafe(v)) extra += headerLine(k, v);
    if (options.headers) {
      for (const [k, v] of Object.entries(options.headers)) {
        if (!validHeaderName(k) || !headerSafe(v)) {
          throw new ChronicleError(
            ErrorCode.InvalidArgument,
            `header ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a valid header (name a token, value without CR/LF or edge white space)`,
            {
              context: { stream: this.stream, option: "headers" },
            },
          );
        }
        extra += headerLine(k, v);
      }
    }
    // the header block, then the event, side by side in one slab: room for both first
    const w = this.headerWriter;
    const headRoom = this.sink ? frameHeadRoom(k.framePrefix, this.frameReply) : 0;
    // (at most 3 UTF-8 bytes per UTF-16 code unit of text; CR LF after the last line, after the event)
    w.reserve(headRoom + start.length + MSG_ID_LINE.length + k.keyLines.length + (idValue.length + dedupKey.length + extra.length) * 3 + 2 + most + 2);
    w.pos += headRoom;
    const headerStart = w.pos;
    w.putBytes(start); // NATS/1.0, the type's constant lines, ce-time, `ce-id: `
    w.putText(idValue);
    w.putBytes(MSG_ID_LINE);
    w.putText(dedupKey);
    w.putBytes(k.keyLines); // CR LF, ce-partitionkey
    if (extra.length !== 0) w.putText(extra);
    w.crlf();
    const headerEnd = w.pos;
    let large: Uint8Array | undefined;
    if (encoded === undefined) {
      const end = type.encoder!.write(msg as unknown as Record<string, unknown>, w, headerEnd);
      if (end >= 0) w.pos = end;
      else encoded = toBinary(schema, msg as Message); // not expected: bound() accepted the message
    }
    if (encoded !== undefined) {
      if (encoded.length <= most) w.putBytes(encoded);
      else large = encoded;
    }
    const payloadEnd = w.pos;
    if (large === undefined) w.crlf(); // the end of the frame
    return new Entry(k, w.bytes, headerStart, headerEnd, payloadEnd, large, dedupKey, id);
  }

  /** Computes (and, up to {@link MAX_KEYS_CACHED} per type, keeps) what a key contributes to a publish. */
  private keyInfo(type: EventType, key: string): KeyInfo {
    const token = keyToken(key);
    const subject = type.subjectPrefix + token;
    const info: KeyInfo = {
      subject,
      framePrefix: headerBytes(`HPUB ${subject} `),
      // `| 0`: a small integer, not a heap number in every entry (see Entry)
      partition: (fnv1a32Ascii(token) % this.partitions) | 0,
      keyLines: headerBytes(
        "\r\n" +
          (token === key || headerSafe(key)
            ? headerLine(Headers.PartitionKey, key)
            : headerLine(Headers.PartitionKey, encodeURIComponent(key)) + headerLine(PARTITION_KEY_ENCODING, "uri")),
      ),
    };
    if (key.length <= 256) {
      if (type.keys.size >= MAX_KEYS_CACHED) type.keys.clear();
      type.keys.set(key, info);
    }
    return info;
  }

  /** Looks an event type up and keeps what is the same for all its events (the constant header lines as bytes). */
  private eventType(name: string): EventType {
    const def = Object.hasOwn(this.definition.events, name) ? (this.definition.events as Record<string, EventDefinition>)[name] : undefined;
    if (!def) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `stream ${this.stream} has no event named ${JSON.stringify(name)}`, {
        context: { stream: this.stream, eventType: name },
      });
    }
    // frames bypass nc.publish's subject check: the names must make a valid subject (key tokens always do)
    if (/\s/.test(this.stream) || /\s/.test(name)) {
      throw new ChronicleError(
        ErrorCode.InvalidArgument,
        `stream ${JSON.stringify(this.stream)} and event ${JSON.stringify(name)} must not contain white space`,
        {
          context: { stream: this.stream, eventType: name },
        },
      );
    }
    const type: EventType = {
      def,
      headerPrefix: headerPrefix(
        headerLine(Headers.SpecVersion, "1.0") +
          headerLine(Headers.Type, def.type) +
          headerLine(Headers.Source, this.source) +
          (def.schemaId ? headerLine(Headers.DataSchema, dataSchemaUri(def.schemaId, this.schemaRegistryUrl)) : "") +
          headerLine(Headers.ContentType, PROTOBUF_CONTENT_TYPE),
      ),
      timed: new Uint8Array(0),
      timedAt: -1,
      subjectPrefix: `${this.stream}.${name}.`,
      encoder: compileFastEncoder(def.schema),
      keys: new Map(),
    };
    this.types.set(name, type);
    return type;
  }

  /** Sends (or sends again) an entry under a fresh reply token. */
  private send(e: Entry, now: Stamp): void {
    if (e.token !== 0) this.entries.delete(e.token);
    if (e.retry !== undefined) this.backoff.delete(e);
    e.token = ++this.counter;
    e.attempts++;
    e.sent = now;
    e.retry = undefined;
    this.entries.set(e.token, e);
    try {
      const sink = this.sink;
      if (sink !== undefined && sink.info?.headers === true) this.sendFrame(sink, e);
      else {
        const opts = this.pubOpts;
        opts.reply = `${this.inbox}.${e.token}`;
        opts.headers = e as unknown as MsgHdrs;
        this.conn.nc.publish(e.subject, e.payload(), opts);
      }
    } catch (err) {
      const ce = translateNatsError(err, `publishing to ${e.subject}`, { stream: this.stream, subject: e.subject });
      if (ce.code === ErrorCode.PayloadTooLarge) {
        const max = this.conn.nc.info?.max_payload;
        this.settle(
          e,
          new ChronicleError(
            ErrorCode.PayloadTooLarge,
            `event of ${e.payload().length} bytes (plus headers) is over the server's max_payload${max ? ` of ${max} bytes` : ""}`,
            {
              context: { stream: this.stream, subject: e.subject, ...(max ? { maxPayload: max } : {}) },
              cause: err,
            },
          ),
        );
      } else this.settle(e, ce);
    }
  }

  /**
   * Sends an entry as one `HPUB` frame through nats.js's protocol handler:
   * what `nc.publish` does (its checks, its statistics) without building and
   * encoding a protocol line string. A first attempt writes the frame head
   * into the room left before the header block and goes out as one buffer;
   * a retry writes a new head (its token differs) elsewhere in the slab.
   */
  private sendFrame(sink: FrameSink, e: Entry): void {
    const nc = this.conn.nc;
    if (nc.isClosed()) throw new errors.ClosedConnectionError();
    if (sink.noMorePublishing) throw new errors.DrainingConnectionError();
    const hlen = e.headerEnd - e.headerStart;
    const large = e.large;
    const total = hlen + (large === undefined ? e.payloadEnd - e.headerEnd : large.length);
    if (sink.info !== undefined && total > sink.info.max_payload) throw errors.InvalidArgumentError.format("payload", "max_payload size exceeded");
    const prefix = e.key.framePrefix;
    const slab = e.slab;
    if (e.attempts === 1) {
      const start = writeFrameHead(slab, e.headerStart, prefix, this.frameReply, e.token, hlen, total);
      if (large === undefined) sink.sendCommand(slab.subarray(start, e.payloadEnd + 2));
      else sink.sendCommand(slab.subarray(start, e.headerEnd), large, CRLF);
    } else {
      const w = this.headerWriter;
      const room = frameHeadRoom(prefix, this.frameReply);
      w.reserve(room);
      const end = w.pos + room;
      const head = w.bytes;
      const start = writeFrameHead(head, end, prefix, this.frameReply, e.token, hlen, total);
      w.pos = end;
      if (large === undefined) sink.sendCommand(head.subarray(start, end), slab.subarray(e.headerStart, e.payloadEnd + 2));
      else sink.sendCommand(head.subarray(start, end), slab.subarray(e.headerStart, e.headerEnd), large, CRLF);
    }
    sink.outBytes += total;
    sink.outMsgs++;
  }

  private onReply(err: Error | null, msg: Msg): void {
    // the reply token is the decimal number after `<inbox>.`: read from the
    // subject's bytes when nats.js has them (MsgImpl), not decoding the subject
    const bytes = (msg as unknown as { _msg?: { subject?: unknown } })._msg?.subject;
    let token = 0;
    if (bytes instanceof Uint8Array) {
      for (let i = this.inbox.length + 1; i < bytes.length; i++) {
        const d = bytes[i]! - 48;
        if (d < 0 || d > 9) return;
        token = token * 10 + d;
      }
    } else {
      const subject = msg.subject;
      for (let i = this.inbox.length + 1; i < subject.length; i++) {
        const d = subject.charCodeAt(i) - 48;
        if (d < 0 || d > 9) return;
        token = token * 10 + d;
      }
    }
    const e = this.entries.get(token);
    if (!e) return; // an ack for an attempt already answered or sent again
    if (!err) {
      const seq = fastAckSequence(msg.data, this.ackPrefix);
      if (seq !== 0) {
        this.acknowledged++;
        this.settle(e, undefined, {
          stream: this.stream,
          sequence: seq > 0 ? seq : -seq,
          duplicate: seq < 0,
          partition: e.partition,
          id: e.id,
          dedupKey: e.dedupKey,
          attempts: e.attempts,
        });
        return;
      }
    }
    if (err) {
      this.retryOrFail(e, translateNatsError(err, `publishing to ${e.subject}`, { stream: this.stream, subject: e.subject }), true);
      return;
    }
    const outcome = parseAck(msg, { stream: this.stream, subject: e.subject, key: e.dedupKey });
    if (outcome.kind === "ok") {
      this.acknowledged++;
      this.settle(e, undefined, {
        stream: outcome.stream,
        sequence: outcome.seq,
        duplicate: outcome.duplicate,
        partition: e.partition,
        id: e.id,
        dedupKey: e.dedupKey,
        attempts: e.attempts,
      });
    } else if (outcome.kind === "error") {
      this.retryOrFail(e, outcome.error, outcome.retryable);
    } else {
      this.onNoResponders(e);
    }
  }

  private onNoResponders(e: Entry): void {
    const noResponders = new ChronicleError(
      ErrorCode.NoResponders,
      `nobody stores events published to ${e.subject}: no stream ${this.stream} (run ensureStream or "chronicle streams apply")`,
      {
        context: { stream: this.stream, subject: e.subject },
      },
    );
    if (Date.now() - this.lastReconnectAt < RECOVERY_GRACE_MS) {
      this.retryOrFail(e, noResponders, true);
      return;
    }
    // park the entry while we ask whether the stream exists at all
    e.retry = PARKED;
    this.backoff.add(e);
    this.streamCheck ??= this.conn.jsm.streams
      .info(this.stream)
      .then(() => true)
      .catch((err: unknown) => translateNatsError(err, "stream info").code !== ErrorCode.NotFound)
      .finally(() => setTimeout(() => (this.streamCheck = undefined), 1000).unref?.());
    void this.streamCheck.then((exists) => {
      if (!this.entries.has(e.token)) return;
      if (exists) this.retryOrFail(e, noResponders, true);
      else
        this.settle(
          e,
          new ChronicleError(ErrorCode.NotFound, `stream ${this.stream} does not exist (run ensureStream or "chronicle streams apply")`, {
            context: { stream: this.stream, subject: e.subject },
            cause: noResponders,
          }),
        );
    });
  }

  private retryOrFail(e: Entry, error: ChronicleError, retryable: boolean): void {
    const now = Date.now();
    if (!retryable || now + RETRY_BACKOFF_MS >= e.first.at + this.publishTimeoutMs) this.settle(e, error);
    else {
      e.retry = { at: now + RETRY_BACKOFF_MS };
      this.backoff.add(e);
    }
  }

  /** Resends entries whose ack is overdue or whose back-off ended; fails those past their deadline. */
  private sweep(): void {
    const now = Date.now();
    const due: Entry[] = [];
    for (const e of this.backoff) if (e.retry!.at <= now) due.push(e);
    for (const e of this.entries.values()) {
      if (e.retry !== undefined) continue;
      // entries are in send order, so the first one in time ends the scan
      if (e.sent.at + this.ackTimeoutMs > now) break;
      due.push(e);
    }
    const stamp: Stamp = { at: now };
    for (const e of due) {
      if (now >= e.first.at + this.publishTimeoutMs) {
        this.settle(
          e,
          new ChronicleError(
            ErrorCode.Timeout,
            `no acknowledgement for ${e.subject} after ${e.attempts} attempts in ${this.publishTimeoutMs} ms; it may or may not be stored`,
            {
              context: { stream: this.stream, subject: e.subject, attempts: e.attempts },
            },
          ),
        );
      } else this.send(e, stamp);
    }
  }

  private settle(e: Entry, error: Error | undefined, result?: PublishResult): void {
    this.entries.delete(e.token);
    if (e.retry !== undefined) this.backoff.delete(e);
    if (error) {
      if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push({ dedupKey: e.dedupKey, error });
      e.resolve(Promise.reject(error));
    } else e.resolve(result!);
    // a queue with a moving head: Array#shift is linear in the waiting count
    if (this.blockedHead < this.blocked.length) {
      // the slot passes to the oldest blocked publish
      const next = this.blocked[this.blockedHead]!;
      this.blocked[this.blockedHead++] = undefined as unknown as Entry;
      if (this.blockedHead > 1024 && this.blockedHead * 2 > this.blocked.length) {
        this.blocked = this.blocked.slice(this.blockedHead);
        this.blockedHead = 0;
      }
      this.enqueue(next);
    } else this.slots--;
    if (this.slots === 0) for (const f of this.idle.splice(0)) f();
  }

  private failAll(error: ChronicleError): void {
    for (const e of [...this.entries.values()]) this.settle(e, error);
  }

  async flush(): Promise<void> {
    if (this.slots === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.flush();
      clearInterval(this.sweeper);
      this.statusIter?.stop?.();
      if (!this.conn.nc.isClosed()) this.sub.unsubscribe();
      return { acknowledged: this.acknowledged, failed: [...this.failures] };
    })();
    return this.closing;
  }
}

/**
 * Creates a pipelined, acknowledged producer for one stream: the entry point
 * generated code calls.
 *
 * Each publish is encoded once and sent as a core NATS publish whose reply
 * subject is under one wildcard inbox subscription of the producer; the
 * JetStream acknowledgement is matched to it by reply token. The producer
 * writes each publish's whole `HPUB` frame itself and hands it to nats.js's
 * protocol handler (the connection's own write buffer and flushing), or uses
 * `nc.publish` when that handler is not there. Up to
 * `maxInFlight` publishes are in flight; more wait (backpressure). A publish
 * resolves when the server has stored the event, or reports
 * `duplicate: true` when its dedup key (`Nats-Msg-Id`) was stored inside
 * the stream's duplicate window. An attempt without an ack within
 * `ackTimeoutMs`, and every attempt in flight when the connection was lost,
 * is sent again with the same dedup key, so retries never store an event
 * twice within the duplicate window.
 *
 * Errors are {@link ChronicleError}s: `not_found` (no such stream),
 * `payload_too_large`, `wrong_last_sequence`, `no_responders`, `timeout`,
 * `closed`, `permission_denied`, `invalid_argument`.
 */
export function createProducer<E extends EventSchemas>(conn: ChronicleConnection, definition: StreamDefinition<E>, options: ProducerOptions = {}): Producer<E> {
  return new PipelinedProducer(conn, definition, options);
}
