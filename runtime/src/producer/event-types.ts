import type { EventDefinition, EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { Headers, PARTITION_KEY_ENCODING, PROTOBUF_CONTENT_TYPE, dataSchemaUri, headerSafe } from "../layout/headers.js";
import { keyToken } from "../layout/key-token.js";
import { partitionOfToken } from "../layout/partition.js";
import type { PublishTarget, ReplyInbox, Wire } from "../wire/types.js";
import { compileFastEncoder, type FastEncoder } from "./fast-encode.js";
import { headerBytes, headerLine, headerPrefix } from "./header-block.js";

/** What a key contributes to a publish: the same for every event of the key and type. */
export interface KeyInfo {
  /** `<stream>.<EventName>.<keyToken>`, prepared for the wire. */
  readonly target: PublishTarget;
  readonly partition: number;
  /** CR LF (the end of the `Nats-Msg-Id` line), then `ce-partitionkey` (and its encoding, when percent-encoded), encoded. */
  readonly keyLines: Uint8Array;
  /** Room the wire writes a frame head into, before the header block. */
  readonly headRoom: number;
}

/** What the producer keeps per event type: computed on its first publish. */
export interface EventType {
  readonly name: string;
  readonly def: EventDefinition;
  /** `NATS/1.0` and the CloudEvents lines that are the same for every event of the type, encoded. */
  readonly headerPrefix: Uint8Array;
  /** `<stream>.<EventName>.` */
  readonly subjectPrefix: string;
  /** Writes the type's events straight into the slab, when their fields are all of the plain kinds it handles. */
  readonly encoder: FastEncoder | undefined;
  /** Recently published keys. */
  readonly keys: Map<string, KeyInfo>;
  /** {@link headerPrefix} and the time lines of the millisecond {@link timedPrefixAt}. */
  timedPrefix: Uint8Array;
  timedPrefixAt: number;
}

/** Keys (of up to {@link MAX_CACHED_KEY_LENGTH} characters) kept per event type; the map starts over when full. */
const MAX_KEYS_CACHED = 10_000;
const MAX_CACHED_KEY_LENGTH = 256;

const ID_NAME = `${Headers.Id}: `;

/**
 * The header lines every event of the type carries, after `NATS/1.0`:
 * CloudEvents' spec version, type, source, data schema and content type.
 */
function constantLines(def: EventDefinition, source: string, schemaRegistryUrl: string | undefined): string {
  return (
    headerLine(Headers.SpecVersion, "1.0") +
    headerLine(Headers.Type, def.type) +
    headerLine(Headers.Source, source) +
    (def.schemaId ? headerLine(Headers.DataSchema, dataSchemaUri(def.schemaId, schemaRegistryUrl)) : "") +
    headerLine(Headers.ContentType, PROTOBUF_CONTENT_TYPE)
  );
}

/** Looks an event type of the stream up and computes what is the same for all its events; throws `invalid_argument` for an unknown name. */
export function describeEventType<E extends EventSchemas>(
  definition: StreamDefinition<E>,
  name: string,
  source: string,
  schemaRegistryUrl: string | undefined,
): EventType {
  const stream = definition.settings.name;
  const events = definition.events as Record<string, EventDefinition>;
  const def = Object.hasOwn(events, name) ? events[name] : undefined;
  if (!def) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `stream ${stream} has no event named ${JSON.stringify(name)}`, {
      context: { stream, eventType: name },
    });
  }
  // the name is a subject token, written into frames verbatim (key tokens never hold white space)
  if (/\s/.test(name)) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `event ${JSON.stringify(name)} of stream ${stream} must not contain white space`, {
      context: { stream, eventType: name },
    });
  }
  return {
    name,
    def,
    headerPrefix: headerPrefix(constantLines(def, source, schemaRegistryUrl)),
    subjectPrefix: `${stream}.${name}.`,
    encoder: compileFastEncoder(def.schema),
    keys: new Map(),
    timedPrefix: new Uint8Array(0),
    timedPrefixAt: -1,
  };
}

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

/**
 * The start of the header block of an event of the type: its constant lines,
 * the `ce-time` line of `time` (default now), and `ce-id: `. For now, made
 * once per millisecond.
 */
export function headerStart(type: EventType, time: Date | undefined): Uint8Array {
  if (time) return concatBytes(type.headerPrefix, timeLines(time));
  const ms = Date.now();
  if (ms !== type.timedPrefixAt) {
    type.timedPrefixAt = ms;
    type.timedPrefix = concatBytes(type.headerPrefix, timeLines(new Date(ms)));
  }
  return type.timedPrefix;
}

/** Computes (and keeps, for up to {@link MAX_KEYS_CACHED} keys per type) what a key contributes to a publish. */
export function keyInfoOf(type: EventType, key: string, partitions: number, wire: Wire, inbox: ReplyInbox): KeyInfo {
  const cached = type.keys.get(key);
  if (cached !== undefined) return cached;
  const token = keyToken(key);
  const target = wire.target(type.subjectPrefix + token);
  const info: KeyInfo = {
    target,
    // `| 0`: a small integer, not a heap number in every publish in flight
    partition: partitionOfToken(token, partitions) | 0,
    keyLines: headerBytes(
      "\r\n" +
        (token === key || headerSafe(key)
          ? headerLine(Headers.PartitionKey, key)
          : headerLine(Headers.PartitionKey, encodeURIComponent(key)) + headerLine(PARTITION_KEY_ENCODING, "uri")),
    ),
    headRoom: wire.headRoom(target, inbox),
  };
  if (key.length <= MAX_CACHED_KEY_LENGTH) {
    if (type.keys.size >= MAX_KEYS_CACHED) type.keys.clear();
    type.keys.set(key, info);
  }
  return info;
}
