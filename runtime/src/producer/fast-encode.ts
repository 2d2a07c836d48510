import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

/** Where {@link FastEncoder}s write: a slab with room reserved (the producer's `HeaderBlockWriter`). @private */
export interface EncodeTarget {
  readonly bytes: Uint8Array;
  readonly buf: Buffer;
}

/**
 * Writes a message's wire encoding into `target.bytes` from `pos`, with at
 * least `bound(message)` bytes of room; returns the end position, or -1 when
 * a value is not of the plain shape it handles (the caller then falls back to
 * `toBinary`, which encodes it or throws protobuf-es's own error). @private
 */
export interface FastEncoder {
  /** An upper bound of the encoded size, or -1 when the message cannot be encoded here. */
  bound(message: Record<string, unknown>): number;
  write(message: Record<string, unknown>, target: EncodeTarget, pos: number): number;
}

type Kind = "string" | "bytes" | "bool" | "int32" | "uint32";

interface FieldPlan {
  name: string;
  kind: Kind;
  /** The tag varint, encoded. */
  tag: number[];
  implicit: boolean;
  /** The zero value of an implicit-presence enum field (its first value). */
  zero: number;
}

function varint(n: number, out: number[] = []): number[] {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function plan(field: DescField): FieldPlan | undefined {
  if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") return undefined;
  if (field.oneof || field.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED) return undefined;
  let kind: Kind;
  let wire: WireType;
  let zero = 0;
  if (field.fieldKind === "enum") {
    kind = "int32";
    wire = WireType.Varint;
    zero = field.enum.values[0]?.number ?? 0;
  } else {
    switch (field.scalar) {
      case ScalarType.STRING:
        kind = "string";
        wire = WireType.LengthDelimited;
        break;
      case ScalarType.BYTES:
        kind = "bytes";
        wire = WireType.LengthDelimited;
        break;
      case ScalarType.BOOL:
        kind = "bool";
        wire = WireType.Varint;
        break;
      case ScalarType.INT32:
        kind = "int32";
        wire = WireType.Varint;
        break;
      case ScalarType.UINT32:
        kind = "uint32";
        wire = WireType.Varint;
        break;
      default:
        return undefined;
    }
  }
  return { name: field.localName, kind, tag: varint(((field.number << 3) | wire) >>> 0), implicit: field.presence === FeatureSet_FieldPresence.IMPLICIT, zero };
}

/** True when a field with this plan and value is written (protobuf-es's presence rules). */
function present(p: FieldPlan, message: Record<string, unknown>, value: unknown): boolean {
  if (!p.implicit) return value !== undefined && Object.prototype.hasOwnProperty.call(message, p.name);
  switch (p.kind) {
    case "string":
      return value !== "";
    case "bytes":
      return !(value instanceof Uint8Array) || value.byteLength > 0;
    case "bool":
      return value !== false;
    default:
      return value !== p.zero;
  }
}

/**
 * A wire encoder writing straight into the producer's slab, for messages
 * whose fields are all singular `string`, `bytes`, `bool`, `int32`,
 * `uint32` or enum fields outside a oneof (most events' shape); `undefined`
 * for any other message type, which is encoded with `toBinary`. Its bytes are
 * those `toBinary` writes (fields in number order, protobuf-es's presence
 * rules); it spares the two `ArrayBuffer`s `toBinary` allocates per event.
 * @private
 */
export function compileFastEncoder(schema: DescMessage): FastEncoder | undefined {
  const plans: FieldPlan[] = [];
  for (const field of [...schema.fields].sort((a, b) => a.number - b.number)) {
    const p = plan(field);
    if (!p) return undefined;
    plans.push(p);
  }
  return {
    bound(message) {
      const unknown = message.$unknown as unknown[] | undefined;
      if (unknown !== undefined && unknown.length > 0) return -1;
      let n = 0;
      for (const p of plans) {
        const v = message[p.name];
        if (!present(p, message, v)) continue;
        n += p.tag.length;
        if (p.kind === "string") {
          if (typeof v !== "string") return -1;
          n += 5 + v.length * 3;
        } else if (p.kind === "bytes") {
          if (!(v instanceof Uint8Array)) return -1;
          n += 5 + v.length;
        } else if (p.kind === "bool") {
          if (typeof v !== "boolean") return -1;
          n += 1;
        } else {
          if (typeof v !== "number" || !Number.isInteger(v)) return -1;
          if (p.kind === "int32" ? v < INT32_MIN || v > INT32_MAX : v < 0 || v > UINT32_MAX) return -1;
          n += 10;
        }
      }
      return n;
    },
    write(message, target, pos) {
      const out = target.bytes;
      for (const p of plans) {
        const v = message[p.name];
        if (!present(p, message, v)) continue;
        for (const b of p.tag) out[pos++] = b;
        if (p.kind === "string") {
          // written after a one-byte length, moved when the length needs more
          const s = v as string;
          const len = s.length <= 32 ? writeShort(out, target.buf, s, pos + 1) : target.buf.write(s, pos + 1, "utf8");
          if (len < 0x80) {
            out[pos] = len;
            pos += 1 + len;
          } else {
            const head = varint(len);
            out.copyWithin(pos + head.length, pos + 1, pos + 1 + len);
            for (const b of head) out[pos++] = b;
            pos += len;
          }
        } else if (p.kind === "bytes") {
          const b = v as Uint8Array;
          pos = writeVarint32(out, pos, b.length);
          out.set(b, pos);
          pos += b.length;
        } else if (p.kind === "bool") {
          out[pos++] = v ? 1 : 0;
        } else {
          let n = v as number;
          if (n >= 0) pos = writeVarint32(out, pos, n);
          else {
            // negative int32: sign-extended to 64 bits, 10 bytes
            for (let i = 0; i < 9; i++) {
              out[pos++] = (n & 0x7f) | 0x80;
              n >>= 7;
            }
            out[pos++] = 1;
          }
        }
      }
      return pos;
    },
  };
}

function writeVarint32(out: Uint8Array, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

/** Writes a short string as UTF-8 at `pos` and returns its byte length: ASCII by a plain loop (cheaper than `Buffer#write` for a few characters). */
function writeShort(out: Uint8Array, buf: Buffer, s: string, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return buf.write(s, pos, "utf8");
    out[pos + i] = c;
  }
  return s.length;
}
