import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { SchemaValidationError } from "../compat/errors.js";
import { messageNames, type CompatEngine } from "./compat-engine.js";
import { checkSubjectName } from "./input-checks.js";
import { RegistryError } from "./registry-error.js";

/** A schema proposed for a subject, decoded, checked and normalised. @private */
export interface PreparedSchema {
  /** The content id of the normalised set. */
  id: string;
  /** What is checked: the subject's files with their source info, for violation locations. */
  extracted: FileDescriptorSet;
  /** What is stored: the normalised set, binary. */
  bytes: Uint8Array;
}

function invalidSchema(message: string): RegistryError {
  return new RegistryError("invalid_schema", message);
}

function reasonOf(err: unknown): string {
  if (err instanceof SchemaValidationError) return `${err.message} [${err.reason}]`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decodes, validates and normalises the binary FileDescriptorSet `bytes`
 * proposed for `subject`: the files the subject's message needs, normalised
 * and named by content. The message is `subject` itself unless `message`
 * names another (an API edge whose subjects are not message names, such as
 * Confluent's `orders-value`); `message` null keeps the whole set (a schema
 * that declares no message, such as a file of enums other schemas import).
 * `maxSchemaBytes` bounds the decoded bytes as sent (whatever the request's
 * encoding) and once normalised. Throws `invalid_subject` or
 * `invalid_schema` with the reason.
 * @private
 */
export function prepareSchema(
  subject: string,
  bytes: Uint8Array,
  maxSchemaBytes: number,
  engine: CompatEngine,
  message: string | null = subject,
): PreparedSchema {
  checkSubjectName(subject);
  if (bytes.length === 0) throw invalidSchema("schema is required: a serialized google.protobuf.FileDescriptorSet");
  if (bytes.length > maxSchemaBytes) throw invalidSchema(`schema is ${bytes.length} bytes; the limit is ${maxSchemaBytes} bytes`);
  let fds: FileDescriptorSet;
  try {
    fds = fromBinary(FileDescriptorSetSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw invalidSchema(`schema is not a serialized FileDescriptorSet: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (fds.file.length === 0) throw invalidSchema("schema is not a FileDescriptorSet with files: no file descriptors found in the bytes");
  if (fds.file.some((f) => f.name === "")) throw invalidSchema("schema has a file descriptor without a name");
  try {
    engine.validateSchemaSet(fds);
  } catch (err) {
    throw invalidSchema(`schema is not a valid self-contained descriptor set: ${reasonOf(err)}`);
  }
  if (message !== null && !messageNames(fds).has(message)) {
    throw invalidSchema(
      message === subject
        ? `subject ${subject} is not a message declared in the schema; the subject must be the event's full message name`
        : `message ${message} of subject ${subject} is not declared in the schema`,
    );
  }
  let extracted: FileDescriptorSet;
  let normalized: FileDescriptorSet;
  let id: string;
  try {
    extracted = message === null ? fds : engine.extractSubjectSchema(fds, message);
    normalized = engine.normalizeSchema(extracted);
    id = engine.schemaId(normalized);
  } catch (err) {
    throw invalidSchema(`schema could not be normalised: ${reasonOf(err)}`);
  }
  const out = toBinary(FileDescriptorSetSchema, normalized);
  if (out.length > maxSchemaBytes) throw invalidSchema(`normalised schema is ${out.length} bytes; the limit is ${maxSchemaBytes} bytes`);
  return { id, extracted, bytes: out };
}
