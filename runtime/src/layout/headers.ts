/**
 * Header names Chronicle writes on every event: the CloudEvents NATS binding
 * in binary mode, the dedup key and W3C trace context (DESIGN.md decision 4).
 */
export const Headers = {
  SpecVersion: "ce-specversion",
  Id: "ce-id",
  Type: "ce-type",
  Source: "ce-source",
  Time: "ce-time",
  DataSchema: "ce-dataschema",
  /** CloudEvents partitioning extension: the event's key, verbatim. */
  PartitionKey: "ce-partitionkey",
  ContentType: "content-type",
  /** JetStream dedup key. */
  MsgId: "Nats-Msg-Id",
  TraceParent: "traceparent",
  TraceState: "tracestate",
} as const;

/** Content type of Chronicle events. */
export const PROTOBUF_CONTENT_TYPE = "application/protobuf";
