import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { ChronicleError, ErrorCode } from "../errors.js";
import { decodeConfluentFrame, encodeConfluentFrame, isConfluentFrame, messageIndexesOf } from "./confluent-frame.js";

/**
 * Decodes a stored event's payload as `schema`: plain protobuf, or a
 * payload in Confluent's wire format (a producer's `confluentWireFormat`
 * option, or a Kafka bridge), whose frame is taken off first. A framed
 * payload whose message-index array names another message of its file than
 * `schema` is refused: it is not this event. Throws as `fromBinary` does,
 * or `decode_failed`.
 */
export function decodeEventPayload<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  if (!isConfluentFrame(bytes)) return fromBinary(schema, bytes);
  const frame = decodeConfluentFrame(bytes);
  const expected = messageIndexesOf(schema);
  if (frame.messageIndexes.join(",") !== expected.join(",")) {
    throw new ChronicleError(
      ErrorCode.DecodeFailed,
      `the Confluent frame (schema id ${frame.schemaId}) names message [${frame.messageIndexes.join(", ")}] of its file; ${schema.typeName} is [${expected.join(", ")}]`,
    );
  }
  return fromBinary(schema, frame.payload);
}

/**
 * The bytes a producer puts before each event of `schema` when it frames
 * events in Confluent's wire format with integer id `schemaId`: magic
 * byte, id and message-index array.
 */
export function confluentPrefix(schema: DescMessage, schemaId: number): Uint8Array {
  return encodeConfluentFrame(schemaId, messageIndexesOf(schema), new Uint8Array(0));
}
