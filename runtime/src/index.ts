// @chronicle/runtime: the public API. Everything users may import is listed
// here; files not re-exported are internal.

// Errors
export { ChronicleError, ErrorCode, isChronicleError, type ErrorContext } from "./errors.js";

// Connection
export { connect, wrapConnection, type ConnectOptions, type ChronicleConnection } from "./connection.js";
export type { WireKind } from "./wire/types.js";

// Stream and event definitions (what generated code builds)
export {
  defineStream,
  resolveStreamSettings,
  DEFAULT_STREAM_SETTINGS,
  type StreamSettings,
  type StorageType,
  type EventDefinition,
  type EventSchemas,
  type StreamDefinition,
} from "./definition.js";

// Subject layout, keys and partitions (documented in docs/keys-and-ordering.md)
export { keyToken, keyFromToken } from "./layout/key-token.js";
export { partitionOf, fnv1a32 } from "./layout/partition.js";
export { layout } from "./layout/subjects.js";
export {
  Headers,
  PROTOBUF_CONTENT_TYPE,
  PARTITION_KEY_ENCODING,
  headerSafe,
  partitionKeyHeaders,
  readPartitionKey,
  dataSchemaUri,
  schemaIdOfDataSchema,
  type HeaderReader,
} from "./layout/headers.js";

// Producer and handler contracts that generated code names (protoc-gen-chronicle)
export type { EventInput, PublishOptions, PublishResult, CloseReport, Producer } from "./producer/types.js";
export type { EventContext, EventHandler, ExhaustiveHandlers, PartialHandlers } from "./groups/types.js";

// Streams, producer, replay
export { planStreams, applyStreams, ensureStream, type StreamPlan, type StreamAction, type FieldChange, type PlanOptions } from "./streams/provision.js";
export { streamConfigOf, dlqStreamConfigOf } from "./streams/stream-config.js";
export { createProducer } from "./producer/create-producer.js";
export type { ProducerOptions } from "./producer/types.js";
export { injectTraceContext, extractTraceContext, traceContextHeaders } from "./telemetry/trace-context.js";
export {
  encodeConfluentFrame,
  decodeConfluentFrame,
  encodeMessageIndexes,
  isConfluentFrame,
  messageIndexesOf,
  CONFLUENT_MAGIC_BYTE,
  type ConfluentFrame,
  type MessageIndexEncoding,
} from "./confluent/confluent-frame.js";
export { decodeEventPayload } from "./confluent/event-payload.js";
export { replay, replayStored, replayFilter, type ReplayOptions, type ReplayFrom, type StoredEvent, type ReplayedEvent } from "./replay/replay.js";

// Consumer groups, idempotency, retries, dead letters, rewind and lag (docs/consumer-groups.md, docs/delivery.md, docs/dead-letters.md)
export { startConsumerGroup, type ConsumerGroupMember } from "./groups/start-consumer-group.js";
export type { ConsumerGroupOptions } from "./groups/group-options.js";
export { DEFAULT_KEY_RETENTION, type KeyRetention } from "./groups/handled-keys.js";
export { NonRetryableError, isNonRetryable, DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelayMs, type RetryPolicy } from "./groups/retry.js";
export type { StartPosition } from "./groups/names.js";
export { assignSlots } from "./groups/assignment.js";
export {
  listGroups,
  describeGroup,
  rewindGroup,
  lag,
  type GroupSummary,
  type GroupDescription,
  type GroupMemberInfo,
  type PartitionPosition,
  type RewindTarget,
} from "./groups/admin.js";
export type { MemberCounts, MemberInfo } from "./groups/membership.js";
export type { IdempotencyStore } from "./idempotency/types.js";
export { createMemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from "./idempotency/memory-store.js";
export { createKvIdempotencyStore, DEFAULT_IDEMPOTENCY_TTL_MS, type KvIdempotencyStoreOptions } from "./idempotency/kv-store.js";
export { DeadLetterHeaders, type DeadLetterReason } from "./dead-letter/headers.js";
export { listDeadLetters, getDeadLetter, redriveDeadLetter, purgeDeadLetters, type DeadLetter } from "./dead-letter/admin.js";
export type { ConsumerMetricsSnapshot } from "./metrics/consumer-metrics.js";
export type { MeterLike, MetricAttributes, InstrumentOptions } from "./telemetry/meter.js";
