import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Stream-wide settings as generated code passes them to the runtime's
 * `defineStream`: structurally identical to `StreamSettings` of
 * `@chronicle/runtime`, defaults filled in ({@link DEFAULT_STREAM_SETTINGS}).
 */
export interface StreamSettingsModel {
  readonly name: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly maxMsgs: number;
  readonly duplicateWindowMs: number;
  readonly storage: "file" | "memory";
}

/**
 * Defaults of every stream setting, equal to the runtime's
 * `DEFAULT_STREAM_SETTINGS` (a test keeps them in step).
 */
export const DEFAULT_STREAM_SETTINGS: Omit<StreamSettingsModel, "name"> = {
  partitions: 8,
  replicas: 1,
  maxAgeMs: 0,
  maxBytes: -1,
  maxMsgs: -1,
  duplicateWindowMs: 120_000,
  storage: "file",
};

/** A position in a `.proto` file, 1-based, as compilers print it. */
export interface SourceLocation {
  /** Path of the file as the compiler names it (relative to its module root). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One field of a key path, from the event message down to the key's field. */
export interface KeyPathStep {
  /** Proto field name (`customer`). */
  readonly name: string;
  /** protobuf-es property name (`customerId`). */
  readonly localName: string;
  /** True for a message field: its value may be unset. */
  readonly message: boolean;
  /** True for a scalar or enum field with explicit presence (proto3 `optional`, proto2): its value may be undefined. */
  readonly optional: boolean;
  /** The field itself. */
  readonly field: DescField;
}

/** A resolved field path (`customer.id`) of a key or idempotency key. */
export interface FieldPathModel {
  /** The path as written in the option. */
  readonly path: string;
  /** The fields along the path; the last one is a singular scalar or enum. */
  readonly steps: readonly KeyPathStep[];
}

/** One event type: a message annotated with `(chronicle.v1.event)`. */
export interface EventModel {
  /** Message short name, the event's name in its stream (`OrderPlaced`). */
  readonly name: string;
  /** Proto full name (`acme.orders.v1.OrderPlaced`), the CloudEvents type. */
  readonly typeName: string;
  /** Field path of the partition key, as written (`order_id`, `customer.id`). */
  readonly keyPath: string;
  /** Field path of the idempotency key, when declared. */
  readonly idempotencyKeyPath?: string;
  /** Resolved key path. */
  readonly key: FieldPathModel;
  /** Resolved idempotency key path, when declared. */
  readonly idempotencyKey?: FieldPathModel;
  /** The message descriptor. */
  readonly desc: DescMessage;
  /** Where the event option is written, when the descriptors carry source info. */
  readonly location?: SourceLocation;
}

/** One stream: its settings and the events declared for it, sorted by name. */
export interface StreamModel {
  readonly settings: StreamSettingsModel;
  readonly events: readonly EventModel[];
  /** Where the stream's settings are declared; absent when it takes all defaults. */
  readonly location?: SourceLocation;
}

/**
 * An error in the options of a `.proto` file. {@link formatDiagnostic}
 * prints it as `path/to/file.proto:LINE:COLUMN: message`.
 */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** What {@link buildEventModel} found: streams (only when there are no diagnostics) and errors. */
export interface EventModelResult {
  readonly streams: StreamModel[];
  readonly diagnostics: Diagnostic[];
}
