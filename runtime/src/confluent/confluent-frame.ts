import type { DescMessage } from "@bufbuild/protobuf";
import { ChronicleError, ErrorCode } from "../errors.js";

/** The first byte of every payload in Confluent's wire format. */
export const CONFLUENT_MAGIC_BYTE = 0;

/** Magic byte and 4-byte schema id. */
const HEAD_BYTES = 5;

/**
 * How the message-index array of a frame is read: `zigzag` as Confluent's
 * serializers write it (count and indexes as zig-zag varints), `unsigned`
 * as some older clients wrote it (plain varints), `auto` zig-zag unless
 * that gives a negative count or index, then unsigned. The two forms agree
 * on `[0]` (one 0 byte), by far the most common array; they disagree on
 * others (zig-zag `[1]` is `02 02`, which unsigned reads as a count of 2),
 * so `auto` can only guess between them: name the form when you know it.
 */
export type MessageIndexEncoding = "zigzag" | "unsigned" | "auto";

/** A payload in Confluent's wire format, taken apart. */
export interface ConfluentFrame {
  /** The registry's integer schema id. */
  schemaId: number;
  /** Where the message is declared in the schema's file: `[0]` the first top-level message, `[2, 1]` the second nested in the third. */
  messageIndexes: number[];
  /** The protobuf message itself (a view of the frame's bytes). */
  payload: Uint8Array;
}

function malformed(message: string): ChronicleError {
  return new ChronicleError(ErrorCode.DecodeFailed, `not a Confluent wire-format payload: ${message}`);
}

function writeVarint(out: number[], value: number): void {
  let v = value >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

const zigzag = (n: number) => ((n << 1) ^ (n >> 31)) >>> 0;
const unzigzag = (n: number) => (n >>> 1) ^ -(n & 1);

/**
 * The message-index array as Confluent's serializers write it: `[0]` as a
 * single 0 byte, anything else as its length and its indexes, each a
 * zig-zag varint.
 */
export function encodeMessageIndexes(indexes: readonly number[]): Uint8Array {
  if (indexes.length === 0) throw new ChronicleError(ErrorCode.InvalidArgument, "a message-index array has at least one index");
  if (indexes.length === 1 && indexes[0] === 0) return new Uint8Array([0]);
  const out: number[] = [];
  writeVarint(out, zigzag(indexes.length));
  for (const i of indexes) {
    if (!Number.isInteger(i) || i < 0) throw new ChronicleError(ErrorCode.InvalidArgument, `message index ${i} is not a non-negative integer`);
    writeVarint(out, zigzag(i));
  }
  return new Uint8Array(out);
}

/** Where a message is declared in its file, as Confluent's message-index array: top-level position first, then each nesting level. */
export function messageIndexesOf(schema: DescMessage): number[] {
  const path: number[] = [];
  let m: DescMessage = schema;
  while (m.parent) {
    path.unshift(m.parent.nestedMessages.indexOf(m));
    m = m.parent;
  }
  path.unshift(m.file.messages.indexOf(m));
  return path;
}

/** Frames a protobuf payload in Confluent's wire format: magic byte 0, the 4-byte big-endian schema id, the message-index array, the payload. */
export function encodeConfluentFrame(schemaId: number, messageIndexes: readonly number[], payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `schema id ${schemaId} does not fit Confluent's 4-byte id`);
  }
  const indexes = encodeMessageIndexes(messageIndexes);
  const out = new Uint8Array(HEAD_BYTES + indexes.length + payload.length);
  out[0] = CONFLUENT_MAGIC_BYTE;
  new DataView(out.buffer).setUint32(1, schemaId);
  out.set(indexes, HEAD_BYTES);
  out.set(payload, HEAD_BYTES + indexes.length);
  return out;
}

/** Reads the varints of a message-index array from `pos`; undefined when the bytes end first or a value is out of range. */
function readIndexes(bytes: Uint8Array, pos: number, signed: boolean): { indexes: number[]; end: number } | undefined {
  const next = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return signed ? unzigzag(value >>> 0) : value;
    }
    return undefined;
  };
  const count = next();
  if (count === undefined || count < 0) return undefined;
  if (count === 0) return { indexes: [0], end: pos };
  // every index takes at least one byte: a larger count cannot be right
  if (count > bytes.length - pos) return undefined;
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const index = next();
    if (index === undefined || index < 0) return undefined;
    indexes.push(index);
  }
  return { indexes, end: pos };
}

/**
 * Whether `bytes` can be a Confluent wire-format payload: at least six
 * bytes, the first 0. A plain protobuf message never starts with 0 (no
 * field has number 0), so this tells the two apart, except for a plain
 * empty message, which has no bytes at all.
 */
export function isConfluentFrame(bytes: Uint8Array): boolean {
  return bytes.length >= HEAD_BYTES + 1 && bytes[0] === CONFLUENT_MAGIC_BYTE;
}

/**
 * Takes a Confluent wire-format payload apart. Throws `decode_failed` when
 * it is not one (no magic byte, too short, a message-index array that does
 * not read).
 */
export function decodeConfluentFrame(bytes: Uint8Array, encoding: MessageIndexEncoding = "auto"): ConfluentFrame {
  if (bytes.length < HEAD_BYTES + 1) throw malformed(`${bytes.length} bytes, at least 6 expected`);
  if (bytes[0] !== CONFLUENT_MAGIC_BYTE) throw malformed(`first byte ${bytes[0]}, the magic byte 0 expected`);
  const schemaId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  const read =
    encoding === "unsigned"
      ? readIndexes(bytes, HEAD_BYTES, false)
      : (readIndexes(bytes, HEAD_BYTES, true) ?? (encoding === "auto" ? readIndexes(bytes, HEAD_BYTES, false) : undefined));
  if (!read)
    throw malformed(`the message-index array after schema id ${schemaId} does not read as ${encoding === "auto" ? "zig-zag or unsigned" : encoding} varints`);
  return { schemaId, messageIndexes: read.indexes, payload: bytes.subarray(read.end) };
}
