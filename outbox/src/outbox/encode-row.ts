import { create, isMessage, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import {
  ChronicleError,
  ErrorCode,
  Headers,
  headerSafe,
  partitionKeyHeaders,
  PROTOBUF_CONTENT_TYPE,
  layout,
  partitionOf,
  type EventDefinition,
  type PublishOptions,
  type StreamDefinition,
} from "@chronicle/runtime";

/** Number of relay slots keys are spread over (PostgreSQL advisory locks). @private */
export const RELAY_SLOTS = 64;

/** One outbox row before it is inserted. @private */
export interface OutboxRow {
  id: string;
  stream: string;
  subject: string;
  key: string;
  slot: number;
  headers: string;
  payload: Uint8Array;
  createdAt: number;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Encodes one event the way the runtime producer would publish it: subject
 * from `layout.publishSubject`, CloudEvents headers (binary mode), protobuf
 * payload, dedup key. `expectedLastSequence` is refused: an outbox row is
 * published later, by a relay, so there is no sequence to expect yet.
 * @private
 */
export function encodeRow(definition: StreamDefinition, source: string, name: string, event: unknown, options: PublishOptions = {}): OutboxRow {
  const stream = definition.settings.name;
  const def = (definition.events as Record<string, EventDefinition>)[name];
  if (!def) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `stream ${stream} has no event named ${JSON.stringify(name)}`, {
      context: { stream, eventType: name },
    });
  }
  if (options.expectedLastSequence !== undefined) {
    throw new ChronicleError(ErrorCode.InvalidArgument, "expectedLastSequence is not supported through the outbox: the event is published later by the relay", {
      context: { stream, option: "expectedLastSequence" },
    });
  }
  const schema: DescMessage = def.schema;
  const msg = isMessage(event, schema) ? event : create(schema, event as never);
  const payload = toBinary(schema, msg as Message);
  const key = def.key(msg as never);
  const id = options.id ?? randomUUID();
  const dedupKey = options.dedupKey ?? (def.idempotencyKey ? def.idempotencyKey(msg as never) : id);
  if (dedupKey.length === 0 || !headerSafe(dedupKey)) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `dedup key ${JSON.stringify(dedupKey)} must be non-empty, without CR/LF or white space at its ends`, {
      context: { stream, key },
    });
  }
  const headers: Record<string, string> = {
    [Headers.SpecVersion]: "1.0",
    [Headers.Type]: def.type,
    [Headers.Source]: source,
    ...(def.schemaId ? { [Headers.DataSchema]: def.schemaId } : {}),
    [Headers.ContentType]: PROTOBUF_CONTENT_TYPE,
    [Headers.Id]: headerSafe(id) ? id : encodeURIComponent(id),
    [Headers.Time]: (options.time ?? new Date()).toISOString(),
    ...partitionKeyHeaders(key),
  };
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (!HEADER_NAME.test(k) || !headerSafe(v) || k.toLowerCase() === Headers.MsgId.toLowerCase()) {
      throw new ChronicleError(ErrorCode.InvalidArgument, `header ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a valid extra header`, {
        context: { stream, option: "headers" },
      });
    }
    headers[k] = v;
  }
  return {
    id: dedupKey,
    stream,
    subject: layout.publishSubject(stream, name, key),
    key,
    slot: partitionOf(`${stream}\n${key}`, RELAY_SLOTS),
    headers: JSON.stringify(headers),
    payload,
    createdAt: Date.now(),
  };
}
