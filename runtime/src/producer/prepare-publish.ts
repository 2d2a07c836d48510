import { create, isMessage, toBinary, type Message } from "@bufbuild/protobuf";
import { PubHeaders } from "@nats-io/jetstream";
import { nuid } from "@nats-io/transport-node";
import type { EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { Headers, headerSafe } from "../layout/headers.js";
import { layout } from "../layout/subjects.js";
import type { PublishTelemetry } from "../telemetry/publish-telemetry.js";
import type { ReplyInbox, Wire } from "../wire/types.js";
import { confluentPrefix } from "../confluent/event-payload.js";
import { describeEventType, headerStart, keyInfoOf, type EventType } from "./event-types.js";
import { HeaderBlockWriter, headerBytes, headerLine, SMALL_COPY_BYTES, validHeaderName } from "./header-block.js";
import type { ResolvedProducerOptions } from "./options.js";
import { PendingPublish } from "./pending-publish.js";
import type { PublishOptions } from "./types.js";

/**
 * Events the fast encoder may take, at most (bytes): it writes them straight
 * into the slab, sparing `toBinary`'s buffers and a copy. Larger ones, or
 * ones it cannot encode, are encoded by `toBinary` and copied into the slab
 * only up to `SMALL_COPY_BYTES`.
 */
const FAST_ENCODE_MAX_BYTES = 32 * 1024;

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Between the event id and the dedup key: CR LF and `Nats-Msg-Id: `. */
const MSG_ID_LINE = headerBytes(`\r\n${Headers.MsgId}: `);

/** UTF-8 bytes per UTF-16 code unit of text, at most. */
const MAX_UTF8_PER_UNIT = 3;
const CRLF_BYTES = 2;

/**
 * Turns publish calls into {@link PendingPublish}es: the event encoded once
 * and its whole header block written, side by side in a shared slab, with
 * the event type's and the key's constant parts computed on first use.
 */
export class PublishPreparer<E extends EventSchemas> {
  private readonly types = new Map<string, EventType>();
  private readonly writer = new HeaderBlockWriter();
  private readonly prefixes = new Map<string, Uint8Array>();

  constructor(
    private readonly definition: StreamDefinition<E>,
    private readonly options: ResolvedProducerOptions,
    private readonly wire: Wire,
    private readonly inbox: ReplyInbox,
    private readonly telemetry: PublishTelemetry,
  ) {}

  /** Encodes and writes one publish; throws `invalid_argument` for an unknown event name or a bad option. */
  prepare(name: string, event: unknown, options: PublishOptions): PendingPublish {
    const type = this.types.get(name) ?? this.describe(name);
    const def = type.def;
    const schema = def.schema;
    const msg = isMessage(event, schema) ? event : create(schema, event as never);
    // room for the encoded event, at most (fast encoder), or the bytes toBinary encoded
    let payloadRoom = type.encoder ? type.encoder.bound(msg as unknown as Record<string, unknown>) : -1;
    let encoded: Uint8Array | undefined;
    const prefix = this.options.confluentSchemaIds ? this.framePrefix(def) : undefined;
    if (payloadRoom < 0 || payloadRoom > FAST_ENCODE_MAX_BYTES || prefix) {
      encoded = prefix ? concatBytes(prefix, toBinary(schema, msg as Message)) : toBinary(schema, msg as Message);
      payloadRoom = encoded.length > SMALL_COPY_BYTES ? 0 : encoded.length;
    }
    const key = def.key(msg as never);
    const k = keyInfoOf(type, key, this.options.partitions, this.wire, this.inbox);
    const id = options.id ?? nuid.next();
    const dedupKey = options.dedupKey ?? (def.idempotencyKey ? def.idempotencyKey(msg as never) : id);
    // generated ids (NUIDs) are header-safe: the checks are for ids and keys the caller chose
    if ((dedupKey !== id || options.id !== undefined) && (dedupKey.length === 0 || !headerSafe(dedupKey))) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `dedup key ${JSON.stringify(dedupKey)} must be non-empty, without CR/LF or white space at its ends`, {
        context: { stream: this.options.stream, key },
      });
    }
    const idValue = options.id === undefined || headerSafe(id) ? id : encodeURIComponent(id);
    const start = headerStart(type, options.time);
    let extra = this.optionLines(key, options);
    // the span starts once nothing can throw, or it would never end
    const span = this.telemetry.start({ type: def.type, partition: k.partition, id });
    const trace = this.telemetry.traceHeaders(span);
    if (trace) for (const [name, value] of Object.entries(trace)) if (validHeaderName(name) && headerSafe(value)) extra += headerLine(name, value);

    const writer = this.writer;
    writer.reserve(
      k.headRoom +
        start.length +
        MSG_ID_LINE.length +
        k.keyLines.length +
        (idValue.length + dedupKey.length + extra.length) * MAX_UTF8_PER_UNIT +
        CRLF_BYTES +
        payloadRoom +
        CRLF_BYTES,
    );
    writer.pos += k.headRoom;
    const headerStartAt = writer.pos;
    writer.putBytes(start); // NATS/1.0, the type's constant lines, ce-time, `ce-id: `
    writer.putText(idValue);
    writer.putBytes(MSG_ID_LINE);
    writer.putText(dedupKey);
    writer.putBytes(k.keyLines); // CR LF, ce-partitionkey
    if (extra.length !== 0) writer.putText(extra);
    writer.crlf(); // the blank line that ends the block
    const headerEnd = writer.pos;
    if (encoded === undefined) {
      const end = type.encoder!.write(msg as unknown as Record<string, unknown>, writer, headerEnd);
      if (end >= 0) writer.pos = end;
      else encoded = toBinary(schema, msg as Message); // not expected: bound() accepted the message
    }
    let large: Uint8Array | undefined;
    if (encoded !== undefined) {
      if (encoded.length <= payloadRoom) writer.putBytes(encoded);
      else large = encoded;
    }
    const payloadEnd = writer.pos;
    if (large === undefined) writer.crlf(); // the end of the frame
    return new PendingPublish(k, writer.bytes, headerStartAt, headerEnd, payloadEnd, large, dedupKey, id, span);
  }

  /** The Confluent wire-format prefix of an event type (see ProducerOptions.confluentWireFormat); throws `invalid_argument` without an id. */
  private framePrefix(def: EventType["def"]): Uint8Array {
    let prefix = this.prefixes.get(def.type);
    if (prefix === undefined) {
      const id = this.options.confluentSchemaIds?.[def.type];
      if (id === undefined) {
        throw new ChronicleError(ErrorCode.InvalidArgument, `confluentWireFormat has no schema id for ${def.type}`, {
          context: { stream: this.options.stream, option: "confluentWireFormat" },
        });
      }
      prefix = confluentPrefix(def.schema, id);
      this.prefixes.set(def.type, prefix);
    }
    return prefix;
  }

  private describe(name: string): EventType {
    const type = describeEventType(this.definition, name, this.options.source, this.options.schemaRegistryUrl);
    this.types.set(name, type);
    return type;
  }

  /** The header lines of the publish's options, as text: optimistic concurrency, the caller's own headers (checked). */
  private optionLines(key: string, options: PublishOptions): string {
    let extra = "";
    if (options.expectedLastSequence !== undefined) {
      extra += headerLine(PubHeaders.ExpectedLastSubjectSequenceHdr, String(options.expectedLastSequence));
      extra += headerLine(PubHeaders.ExpectedLastSubjectSequenceSubjectHdr, layout.keyFilter(this.options.stream, key));
    }
    if (options.headers) {
      for (const [k, v] of Object.entries(options.headers)) {
        if (!validHeaderName(k) || !headerSafe(v)) {
          throw new ChronicleError(
            ErrorCode.InvalidArgument,
            `header ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a valid header (name a token, value without CR/LF or edge white space)`,
            { context: { stream: this.options.stream, option: "headers" } },
          );
        }
        extra += headerLine(k, v);
      }
    }
    return extra;
  }
}
