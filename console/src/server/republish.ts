import { fromJson, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createProducer, defineStream, type ChronicleConnection, type PublishResult } from "@chronicle/runtime";
import type { RepublishRequest } from "../gen/chronicle/console/v1/console_pb.js";
import { invalidArgument } from "./connect-errors.js";
import type { SchemaDecoder } from "./messages/schema-decoder.js";

/** A republish request checked against its schema: what will be published. */
export interface ValidatedRepublish {
  stream: string;
  eventName: string;
  type: string;
  key: string;
  schemaId: string;
  desc: DescMessage;
  /** The event, parsed from JSON with the registered schema. */
  message: Message;
}

/**
 * Checks a republish request: the stream and event name are valid, the
 * type's schema is in the registry (the given id, else the latest
 * version), and the JSON parses as that message (protobuf JSON: unknown
 * fields, wrong types and malformed values are refused with the parser's
 * reason). Nothing is published.
 */
export async function validateRepublish(decoder: SchemaDecoder, req: RepublishRequest): Promise<ValidatedRepublish> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(req.stream)) throw invalidArgument("stream", `not a stream name: ${JSON.stringify(req.stream)}`);
  if (!/^[A-Za-z0-9_]+$/.test(req.eventName)) throw invalidArgument("event_name", `not an event name: ${JSON.stringify(req.eventName)}`);
  if (!req.type) throw invalidArgument("type", "the event's full type (ce-type) is required");
  let json: JsonValue;
  try {
    json = JSON.parse(req.json) as JsonValue;
  } catch (err) {
    throw invalidArgument("json", `not valid JSON: ${(err as Error).message}`);
  }
  const schema = await decoder.resolve(req.type, req.schemaId || undefined);
  let message;
  try {
    message = fromJson(schema.desc, json, { registry: schema.registry });
  } catch (err) {
    throw invalidArgument("json", `does not match ${req.type} (schema ${schema.id.slice(0, 19)}…): ${(err as Error).message}`);
  }
  return { stream: req.stream, eventName: req.eventName, type: req.type, key: req.key, schemaId: schema.id, desc: schema.desc, message };
}

/**
 * Publishes a validated event with the runtime's producer: a new event id
 * and dedup key (so it is never taken for the original), the key given,
 * `ce-dataschema` of the schema it was validated with, and a
 * `chronicle-republished-from` header naming the origin.
 */
export async function publishRepublish(conn: ChronicleConnection, v: ValidatedRepublish, origin: string, partitions: number): Promise<PublishResult> {
  if (partitions < 1) throw new ConnectError(`stream ${v.stream} is not a Chronicle stream (no partition transform)`, Code.FailedPrecondition);
  const def = defineStream<Record<string, DescMessage>>(
    { name: v.stream, partitions },
    { [v.eventName]: { schema: v.desc, name: v.eventName, type: v.type, keyPath: "", key: () => v.key, schemaId: v.schemaId } },
  );
  const producer = createProducer(conn, def);
  try {
    return await producer.publish(v.eventName, v.message, { headers: origin ? { "chronicle-republished-from": origin } : {} });
  } finally {
    await producer.close();
  }
}
