import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Stream-wide settings as the protos declare them: the name and each setting
 * the `(chronicle.v1.stream)` option sets, in the units of the runtime's
 * `StreamSettings`. A setting left out (or zero, which proto3 cannot tell
 * from unset) is absent: generated code leaves it out too, and the runtime's
 * `defineStream` fills it from its `DEFAULT_STREAM_SETTINGS`, the one place
 * the defaults live.
 */
export interface StreamSettingsModel {
  readonly name: string;
  readonly partitions?: number;
  readonly replicas?: number;
  /** 0 keeps events forever. */
  readonly maxAgeMs?: number;
  /** -1 for no limit. */
  readonly maxBytes?: number;
  /** -1 for no limit. */
  readonly maxMsgs?: number;
  readonly duplicateWindowMs?: number;
  readonly storage?: "file" | "memory";
}

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

/** One stream: its declared settings and the events declared for it, sorted by name. */
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
