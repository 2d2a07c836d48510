/**
 * Header names Chronicle writes on every event: the CloudEvents NATS binding
 * in binary mode, the dedup key and W3C trace context.
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

/** Set to `uri` when `ce-partitionkey` holds the key percent-encoded. */
export const PARTITION_KEY_ENCODING = "chronicle-partitionkey-encoding";

/**
 * True when a value travels verbatim in a NATS header: no CR or LF, and no
 * white space at either end (which header parsing would trim).
 */
export function headerSafe(value: string): boolean {
  return !/[\r\n]/.test(value) && value.trim() === value;
}

/**
 * The headers that carry an event's key: `ce-partitionkey` verbatim when it
 * is {@link headerSafe}, else percent-encoded (`encodeURIComponent`) with
 * `chronicle-partitionkey-encoding: uri`. {@link readPartitionKey} reverses it.
 */
export function partitionKeyHeaders(key: string): Record<string, string> {
  return headerSafe(key) ? { [Headers.PartitionKey]: key } : { [Headers.PartitionKey]: encodeURIComponent(key), [PARTITION_KEY_ENCODING]: "uri" };
}

/** Headers read one name at a time (a first value, or undefined). */
export interface HeaderReader {
  get(name: string): string | undefined;
}

/** The event's key from its headers (a record, or a {@link HeaderReader}), decoded; undefined when the header is absent or its encoding unknown. */
export function readPartitionKey(headers: Readonly<Record<string, string | undefined>> | HeaderReader): string | undefined {
  const reader = typeof (headers as { get?: unknown }).get === "function" ? (headers as HeaderReader) : undefined;
  const record = headers as Readonly<Record<string, string | undefined>>;
  const value = reader ? reader.get(Headers.PartitionKey) : record[Headers.PartitionKey];
  if (value === undefined) return undefined;
  const encoding = reader ? reader.get(PARTITION_KEY_ENCODING) : record[PARTITION_KEY_ENCODING];
  if (encoding === undefined) return value;
  if (encoding !== "uri") return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Prefix of a `ce-dataschema` that names a schema by id alone: `chronicle:schema:<id>`. */
export const DATA_SCHEMA_URN_PREFIX = "chronicle:schema:";

/**
 * The `ce-dataschema` of an event whose schema has registry id `schemaId`
 * (`sha256:...`): the registry's URL for that exact schema,
 * `<registryUrl>/schemas/ids/<id>` (which answers its FileDescriptorSet),
 * or, without a registry URL, `chronicle:schema:<id>`, a URI any Chronicle
 * registry resolves, since ids are content hashes and equal everywhere.
 */
export function dataSchemaUri(schemaId: string, registryUrl?: string): string {
  return registryUrl ? `${registryUrl.replace(/\/+$/, "")}/schemas/ids/${schemaId}` : `${DATA_SCHEMA_URN_PREFIX}${schemaId}`;
}

/** The registry schema id a `ce-dataschema` names (either form of {@link dataSchemaUri}); undefined for anything else. */
export function schemaIdOfDataSchema(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const id = uri.startsWith(DATA_SCHEMA_URN_PREFIX) ? uri.slice(DATA_SCHEMA_URN_PREFIX.length) : /\/schemas\/ids\/([^/?#]+)$/.exec(uri)?.[1];
  return id !== undefined && /^sha256:[0-9a-f]{64}$/.test(id) ? id : undefined;
}
