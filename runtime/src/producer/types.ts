import type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { EventSchemas } from "../definition.js";
import type { MeterLike } from "../telemetry/meter.js";

/** An event to publish: a protobuf-es message or its init shape. */
export type EventInput<Desc extends EventSchemas[string]> = MessageInitShape<Desc> | MessageShape<Desc>;

/** Per-publish options. */
export interface PublishOptions {
  /** Dedup key (`Nats-Msg-Id`); default the event's idempotency key field, else its event id. */
  dedupKey?: string;
  /** Event id (`ce-id`); default a new unique id. */
  id?: string;
  /** Event time (`ce-time`); default now. */
  time?: Date;
  /** Extra headers, added after Chronicle's own. */
  headers?: Record<string, string>;
  /**
   * Optimistic concurrency: the publish succeeds only if the last event
   * stored for this event's key (any type) has this stream sequence; 0 means
   * "no event for this key yet". Fails with `wrong_last_sequence`.
   */
  expectedLastSequence?: number;
}

/** What the server answered for one stored (or deduplicated) event. */
export interface PublishResult {
  stream: string;
  /** Stream sequence of the stored event (of the original, for a duplicate). */
  sequence: number;
  /** True when the dedup key was seen inside the duplicate window: nothing new was stored. */
  duplicate: boolean;
  /** Partition the key maps to. */
  partition: number;
  /** The event id (`ce-id`). */
  id: string;
  /** The dedup key used (`Nats-Msg-Id`). */
  dedupKey: string;
  /**
   * How many times the event was sent: more than 1 after a timeout or a
   * reconnect. A retry that finds its own earlier attempt stored reports
   * `duplicate: true`, so `duplicate && attempts > 1` usually means "stored
   * by this call's first attempt".
   */
  attempts: number;
}

/** Options of `createProducer`. */
export interface ProducerOptions {
  /** CloudEvents `ce-source` of every event; default `/chronicle/<stream>`. */
  source?: string;
  /**
   * Base URL of the schema registry (`https://registry.example.com`). Events
   * whose definition carries a `schemaId` (generated code does) then get
   * `ce-dataschema: <url>/schemas/ids/<id>`; without it, `chronicle:schema:<id>`.
   * Undefined is the same as absent, so `process.env["CHRONICLE_REGISTRY_URL"]`
   * can be passed as it is.
   */
  schemaRegistryUrl?: string | undefined;
  /** Most publishes in flight at once; a publish beyond waits for a slot (backpressure). Default 5000. */
  maxInFlight?: number;
  /** How long to wait for one attempt's acknowledgement before sending again with the same dedup key, ms. Default 5000. */
  ackTimeoutMs?: number;
  /**
   * How long a publish may take overall, retries included, before it fails
   * with `timeout`, ms. Default 60 000. Keep it below the stream's duplicate
   * window, or a late retry could store an event twice.
   */
  publishTimeoutMs?: number;
  /**
   * Record a `publish <stream>` span per event (OpenTelemetry messaging
   * conventions) and carry its trace context in the event's headers
   * (`traceparent`, `tracestate`). Needs `@opentelemetry/api` and a
   * registered SDK; costs nothing more without them. Default true.
   */
  tracing?: boolean;
  /**
   * Where the producer's metrics (`messaging.client.sent.messages`,
   * `messaging.client.operation.duration`) are recorded. Default: the global
   * meter provider's, when `@opentelemetry/api` is installed.
   */
  meter?: MeterLike;
  /**
   * Frame each event's payload in Confluent's wire format (magic byte 0,
   * the 4-byte registry id, the message-index array, then the protobuf
   * message), for events bridged to Kafka or read by Confluent's
   * deserializers. `schemaIds` maps each event's full name
   * (`acme.orders.v1.OrderPlaced`) to its integer id in a
   * Confluent-compatible registry (Chronicle's registry answers it at
   * `POST /subjects/{subject}`); publishing an event without an id fails
   * with `invalid_argument`. Chronicle's consumers and replay read framed
   * and plain payloads alike. Default: plain protobuf.
   */
  confluentWireFormat?: { schemaIds: Readonly<Record<string, number>> };
}

/** Report of {@link Producer.close}: publishes that had not succeeded. */
export interface CloseReport {
  /** Number of publishes acknowledged over the producer's life. */
  acknowledged: number;
  /** Publishes that failed for good, with their errors. */
  failed: { dedupKey: string; error: Error }[];
}

/**
 * A pipelined, acknowledged publisher for one stream. Many publishes are in
 * flight at once (bounded window, backpressure when full); each promise
 * resolves when the server has stored the event.
 */
export interface Producer<E extends EventSchemas> {
  /** Publishes one event; resolves once stored (or recognised as a duplicate). */
  publish<K extends keyof E & string>(name: K, event: EventInput<E[K]>, options?: PublishOptions): Promise<PublishResult>;
  /** Publishes many events, pipelined; results in input order. */
  publishBatch<K extends keyof E & string>(items: readonly { name: K; event: EventInput<E[K]>; options?: PublishOptions }[]): Promise<PublishResult[]>;
  /** Waits until every publish started so far has settled. */
  flush(): Promise<void>;
  /** Stops accepting publishes, waits for those in flight, and reports failures. */
  close(): Promise<CloseReport>;
}
