import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ChronicleError, ErrorCode } from "./errors.js";

/** Where JetStream keeps a stream's messages. */
export type StorageType = "file" | "memory";

/**
 * Stream-wide settings, declared once per stream in the protos
 * (`chronicle.v1.stream` file option) and carried by generated code.
 */
export interface StreamSettings {
  /** Stream name, also the first subject token: `[A-Za-z0-9_-]{1,64}`, not ending in `_dlq`. */
  readonly name: string;
  /** Number of partitions, 1..1024. Changing it remaps keys. */
  readonly partitions: number;
  /** Replicas of every message on a cluster, 1..5. */
  readonly replicas: number;
  /** Maximum age of a message in ms; 0 keeps messages forever. */
  readonly maxAgeMs: number;
  /** Maximum stream size in bytes; -1 for no limit. */
  readonly maxBytes: number;
  /** Maximum number of messages; -1 for no limit. */
  readonly maxMsgs: number;
  /** Window in ms within which a repeated `Nats-Msg-Id` is stored only once. */
  readonly duplicateWindowMs: number;
  /** File (durable) or memory storage. */
  readonly storage: StorageType;
}

/** Defaults for every stream setting a definition leaves out. */
export const DEFAULT_STREAM_SETTINGS: Omit<StreamSettings, "name"> = {
  partitions: 8,
  replicas: 1,
  maxAgeMs: 0,
  maxBytes: -1,
  maxMsgs: -1,
  duplicateWindowMs: 120_000,
  storage: "file",
};

/**
 * One event type of a stream: its protobuf-es schema and how to take its
 * key and idempotency key from a message. Generated code builds these.
 */
export interface EventDefinition<Desc extends DescMessage = DescMessage> {
  /** The protobuf-es message schema (`OrderPlacedSchema`). */
  readonly schema: Desc;
  /** Short name inside the stream and subject token (`OrderPlaced`). */
  readonly name: string;
  /** Proto full name, the CloudEvents `ce-type` (`acme.orders.v1.OrderPlaced`). */
  readonly type: string;
  /** Field path of the key, as written in the proto option (`order_id`, `customer.id`). */
  readonly keyPath: string;
  /** Takes the partition key from a message. */
  readonly key: (event: MessageShape<Desc>) => string;
  /** Field path of the idempotency key, when the event declares one. */
  readonly idempotencyKeyPath?: string;
  /** Takes the idempotency key from a message; absent means the event id is used. */
  readonly idempotencyKey?: (event: MessageShape<Desc>) => string;
  /** The registry's id of this event's schema (content hash), for `ce-dataschema`. */
  readonly schemaId?: string;
}

/** A map from event name to its protobuf-es schema. */
export type EventSchemas = Record<string, DescMessage>;

/** Everything the runtime needs to provision, produce to and consume a stream. */
export interface StreamDefinition<E extends EventSchemas = EventSchemas> {
  readonly settings: StreamSettings;
  readonly events: { readonly [K in keyof E]: EventDefinition<E[K]> };
}

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Validates settings and fills defaults. Throws a {@link ChronicleError}
 * with code `invalid_argument` naming the setting and the accepted range.
 */
export function resolveStreamSettings(settings: Partial<StreamSettings> & { name: string }): StreamSettings {
  const s: StreamSettings = { ...DEFAULT_STREAM_SETTINGS, ...settings };
  const bad = (option: string, accepted: string, value: unknown) =>
    new ChronicleError(ErrorCode.InvalidArgument, `stream ${JSON.stringify(s.name)}: ${option} is ${JSON.stringify(value)}; accepted: ${accepted}`, {
      context: { stream: s.name, option },
    });
  if (!STREAM_NAME.test(s.name) || s.name.endsWith("_dlq")) throw bad("name", "1-64 of [A-Za-z0-9_-], not ending in _dlq", s.name);
  if (!Number.isInteger(s.partitions) || s.partitions < 1 || s.partitions > 1024) throw bad("partitions", "an integer from 1 to 1024", s.partitions);
  if (!Number.isInteger(s.replicas) || s.replicas < 1 || s.replicas > 5) throw bad("replicas", "an integer from 1 to 5", s.replicas);
  if (!Number.isInteger(s.maxAgeMs) || s.maxAgeMs < 0) throw bad("maxAgeMs", "0 (forever) or a positive number of ms", s.maxAgeMs);
  if (!Number.isInteger(s.maxBytes) || (s.maxBytes < 1 && s.maxBytes !== -1)) throw bad("maxBytes", "-1 (no limit) or a positive integer", s.maxBytes);
  if (!Number.isInteger(s.maxMsgs) || (s.maxMsgs < 1 && s.maxMsgs !== -1)) throw bad("maxMsgs", "-1 (no limit) or a positive integer", s.maxMsgs);
  if (!Number.isInteger(s.duplicateWindowMs) || s.duplicateWindowMs < 1) throw bad("duplicateWindowMs", "a positive number of ms", s.duplicateWindowMs);
  if (s.storage !== "file" && s.storage !== "memory") throw bad("storage", '"file" or "memory"', s.storage);
  return s;
}

/**
 * Builds a {@link StreamDefinition} from settings (defaults filled in) and
 * event definitions. Generated code calls it; hand-written definitions may
 * too. Event names must be unique and valid subject tokens.
 */
export function defineStream<E extends EventSchemas>(
  settings: Partial<StreamSettings> & { name: string },
  events: { readonly [K in keyof E]: EventDefinition<E[K]> },
): StreamDefinition<E> {
  const resolved = resolveStreamSettings(settings);
  for (const [name, ev] of Object.entries(events) as [string, EventDefinition][]) {
    if (ev.name !== name || !/^[A-Za-z0-9_]+$/.test(name)) {
      throw new ChronicleError(
        ErrorCode.InvalidArgument,
        `stream ${resolved.name}: event ${JSON.stringify(name)} must be an identifier equal to its definition's name`,
        {
          context: { stream: resolved.name, eventType: ev.type },
        },
      );
    }
  }
  return { settings: resolved, events };
}
