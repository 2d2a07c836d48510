/**
 * The OpenTelemetry semantic-convention names Chronicle records (messaging
 * spans and metrics, semantic conventions 1.27 and later), and its own
 * `chronicle.*` names for what those conventions do not cover. Names only:
 * Chronicle does not depend on `@opentelemetry/semantic-conventions`.
 */
export const Attr = {
  MessagingSystem: "messaging.system",
  MessagingOperationName: "messaging.operation.name",
  MessagingOperationType: "messaging.operation.type",
  MessagingDestinationName: "messaging.destination.name",
  MessagingDestinationPartitionId: "messaging.destination.partition.id",
  MessagingMessageId: "messaging.message.id",
  MessagingMessageBodySize: "messaging.message.body.size",
  MessagingConsumerGroupName: "messaging.consumer.group.name",
  ErrorType: "error.type",
  /** The event's type, its protobuf full name (`ce-type`). */
  EventType: "chronicle.event.type",
  /** How many times the event was delivered to the group, this delivery included. */
  DeliveryCount: "chronicle.delivery.count",
  /** The idempotency store operation: `lookup` or `record`. */
  StoreOperation: "chronicle.idempotency.operation",
  /** The idempotency store's KV bucket. */
  StoreBucket: "chronicle.idempotency.bucket",
} as const;

/** `messaging.system` of every span and metric: NATS JetStream. */
export const MESSAGING_SYSTEM = "nats";

/** `messaging.operation.type` values. */
export const OperationType = { Send: "send", Process: "process" } as const;

/** Metric names. */
export const Metric = {
  /** Counter: events the producer sent, by outcome (`error.type` when failed). */
  SentMessages: "messaging.client.sent.messages",
  /** Histogram (s): publish to acknowledgement (or failure), retries included. */
  OperationDuration: "messaging.client.operation.duration",
  /** Histogram (s): a handler's run on one event. */
  ProcessDuration: "messaging.process.duration",
  Handled: "chronicle.consumer.handled",
  Failed: "chronicle.consumer.failed",
  Retried: "chronicle.consumer.retried",
  DeadLettered: "chronicle.consumer.dead_lettered",
  Duplicates: "chronicle.consumer.duplicates",
  /** Observable gauge: events of a partition not yet acknowledged by the group. */
  Lag: "chronicle.consumer.lag",
  /** Histogram (s): an idempotency store lookup or record, request to answer. */
  StoreDuration: "chronicle.idempotency.duration",
} as const;

/** Bucket boundaries (s) the messaging conventions give for their duration histograms. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
