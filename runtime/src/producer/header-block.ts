import type { FastEncoder } from "./fast-encode.js";

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const encoder = new TextEncoder();

/** True when nats.js would keep a header value verbatim: no CR/LF, no white space at the ends. @private */
export { headerSafe } from "../layout/headers.js";

/** True for a valid header field name (RFC 9110 token). @private */
export function validHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** One header line of a block. @private */
export function headerLine(name: string, value: string): string {
  return `${name}: ${value}\r\n`;
}

/**
 * The constant start of a header block: the `NATS/1.0` status line and the
 * given lines, encoded once (per event type, by the producer). @private
 */
export function headerPrefix(lines: string): Uint8Array {
  return encoder.encode(`NATS/1.0\r\n${lines}`);
}

/** Header lines (or any text) encoded once, to be copied with {@link HeaderBlockWriter.putBytes}. @private */
export function headerBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Payloads up to this size are copied into the slab ({@link HeaderBlockWriter.keep}). @private */
export const SMALL_COPY_BYTES = 2048;

/** Bytes per slab: a few hundred header blocks of a typical event. */
const SLAB_BYTES = 128 * 1024;

/** Byte arrays up to this length are copied by a loop: `TypedArray#set` costs more for a few bytes. */
const LOOP_COPY_BYTES = 64;

/**
 * Writes NATS header blocks (a constant prefix from {@link headerPrefix},
 * then the per-event lines) and small encoded events into large slabs
 * instead of one fresh `ArrayBuffer` per event: a `TextEncoder.encode` of the
 * whole ~330-byte block per event, and the garbage it left, were the largest
 * single cost of a publish after nats.js itself. Bytes written are never
 * overwritten (the write position only moves forward, and a full slab is
 * replaced, not reused), so they stay valid as long as the slab is
 * referenced: a retry sends the same bytes.
 *
 * Two ways to write: the one-call {@link write}, {@link keep} and
 * {@link encode}, each returning a view; or {@link reserve} room once, then
 * the `put*` methods at {@link pos}, for a caller that keeps positions
 * instead of views (a view is an object per event for the garbage
 * collector). Callers must pass header-safe values and valid names. @private
 */
export class HeaderBlockWriter {
  private slab = new Uint8Array(0);
  /** The slab as a `Buffer`, for its UTF-8 `write`. */
  buf = Buffer.alloc(0);
  /** The write position in {@link bytes}. */
  pos = 0;

  /** The block `prefix` + `lines` + the closing blank line. */
  write(prefix: Uint8Array, lines: string): Uint8Array {
    // at most 3 UTF-8 bytes per UTF-16 code unit, 2 for the final CRLF
    this.reserve(prefix.length + lines.length * 3 + 2);
    const start = this.pos;
    this.putBytes(prefix);
    this.putText(lines);
    this.crlf();
    return new Uint8Array(this.slab.buffer, start, this.pos - start);
  }

  /**
   * A copy of small bytes (an encoded event) in the slab. An event in flight
   * is kept until its ack; as a view on a slab it holds no buffer of its own,
   * so the many events in flight cost the garbage collector less than as
   * thousands of separate `ArrayBuffer`s (external memory, each swept on
   * its own). Bytes over {@link SMALL_COPY_BYTES} are returned as they are.
   */
  keep(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n > SMALL_COPY_BYTES) return bytes;
    this.reserve(n);
    const start = this.pos;
    this.putBytes(bytes);
    return new Uint8Array(this.slab.buffer, start, n);
  }

  /**
   * The event encoded by `encoder` straight into the slab (a view, like
   * {@link keep}'s), or `undefined` when the encoder cannot take this message
   * or it may be over {@link SMALL_COPY_BYTES}: encode it with `toBinary`.
   */
  encode(encoder: FastEncoder, message: Record<string, unknown>): Uint8Array | undefined {
    const most = encoder.bound(message);
    if (most < 0 || most > SMALL_COPY_BYTES) return undefined;
    this.reserve(most);
    const start = this.pos;
    const end = encoder.write(message, this, start);
    if (end < 0) return undefined;
    this.pos = end;
    return new Uint8Array(this.slab.buffer, start, end - start);
  }

  /** The current slab: what {@link pos} indexes, and where the `put*` methods write. */
  get bytes(): Uint8Array {
    return this.slab;
  }

  /**
   * Makes room for `most` bytes from {@link pos}, starting a new slab when
   * the current one has not that much left (positions taken before then
   * belong to the old slab: reserve once, for everything written together).
   */
  reserve(most: number): void {
    if (this.pos + most > this.slab.length) {
      // not zero-filled: only bytes written here are ever read or sent
      this.buf = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, most));
      this.slab = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.length);
      this.pos = 0;
    }
  }

  /** Copies `bytes` at {@link pos}. */
  putBytes(bytes: Uint8Array): void {
    const n = bytes.length;
    const out = this.slab;
    let pos = this.pos;
    if (n <= LOOP_COPY_BYTES) for (let i = 0; i < n; i++) out[pos++] = bytes[i]!;
    else {
      out.set(bytes, pos);
      pos += n;
    }
    this.pos = pos;
  }

  /** Writes `text` as UTF-8 at {@link pos} (room: 3 bytes per UTF-16 code unit); ASCII by a plain loop. */
  putText(text: string): void {
    const out = this.slab;
    let pos = this.pos;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = pos + this.buf.write(text.slice(i), pos, "utf8");
        return;
      }
      out[pos++] = c;
    }
    this.pos = pos;
  }

  /** Writes CR LF at {@link pos}. */
  crlf(): void {
    this.slab[this.pos++] = 13;
    this.slab[this.pos++] = 10;
  }
}
