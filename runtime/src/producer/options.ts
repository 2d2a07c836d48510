import type { StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { headerSafe } from "../layout/headers.js";
import type { MeterLike } from "../telemetry/meter.js";
import type { ProducerOptions } from "./types.js";

/** {@link ProducerOptions} with every default applied and checked. */
export interface ResolvedProducerOptions {
  readonly stream: string;
  readonly partitions: number;
  readonly source: string;
  readonly schemaRegistryUrl: string | undefined;
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly tracing: boolean;
  readonly meter: MeterLike | undefined;
  /** Integer registry ids by event full name when events are framed in Confluent's wire format. */
  readonly confluentSchemaIds: Readonly<Record<string, number>> | undefined;
}

/** Publishes in flight at once by default. */
const DEFAULT_MAX_IN_FLIGHT = 5000;
/** Wait for one attempt's ack before sending again, by default (ms). */
const DEFAULT_ACK_TIMEOUT_MS = 5000;
/** Longest default publish timeout (ms); the stream's duplicate window caps it. */
const MAX_DEFAULT_PUBLISH_TIMEOUT_MS = 60_000;

/** Applies the defaults of {@link ProducerOptions} and checks the result; throws `invalid_argument`. */
export function resolveProducerOptions(definition: StreamDefinition, options: ProducerOptions): ResolvedProducerOptions {
  const stream = definition.settings.name;
  const resolved: ResolvedProducerOptions = {
    stream,
    partitions: definition.settings.partitions,
    source: options.source ?? `/chronicle/${stream}`,
    schemaRegistryUrl: options.schemaRegistryUrl,
    maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
    publishTimeoutMs: options.publishTimeoutMs ?? Math.min(MAX_DEFAULT_PUBLISH_TIMEOUT_MS, definition.settings.duplicateWindowMs),
    tracing: options.tracing ?? true,
    meter: options.meter,
    confluentSchemaIds: options.confluentWireFormat?.schemaIds,
  };
  const bad = (option: string, message: string) => new ChronicleError(ErrorCode.InvalidArgument, message, { context: { stream, option } });
  if (!Number.isInteger(resolved.maxInFlight) || resolved.maxInFlight < 1) {
    throw bad("maxInFlight", `maxInFlight must be a positive integer, got ${resolved.maxInFlight}`);
  }
  for (const option of ["ackTimeoutMs", "publishTimeoutMs"] as const) {
    const ms = resolved[option];
    if (!Number.isFinite(ms) || ms <= 0) throw bad(option, `${option} must be a positive number of ms, got ${ms}`);
  }
  if (resolved.source.length === 0 || !headerSafe(resolved.source)) {
    throw bad("source", `source ${JSON.stringify(resolved.source)} must be a non-empty URI reference`);
  }
  if (resolved.schemaRegistryUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(resolved.schemaRegistryUrl)) {
    throw bad("schemaRegistryUrl", `schemaRegistryUrl ${JSON.stringify(resolved.schemaRegistryUrl)} must be an http(s) URL`);
  }
  for (const [type, id] of Object.entries(resolved.confluentSchemaIds ?? {})) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw bad("confluentWireFormat", `schema id ${id} of ${type} does not fit Confluent's 4-byte id`);
  }
  // frames carry the stream and event names in their subjects verbatim
  if (/\s/.test(stream)) throw bad("stream", `stream ${JSON.stringify(stream)} must not contain white space`);
  return resolved;
}
