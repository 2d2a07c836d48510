const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const encoder = new TextEncoder();

/** True for a valid header field name (RFC 9110 token). */
export function validHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** One header line of a block. */
export function headerLine(name: string, value: string): string {
  return `${name}: ${value}\r\n`;
}

/**
 * The constant start of a header block: the `NATS/1.0` status line and the
 * given lines, encoded once (per event type, by the producer).
 */
export function headerPrefix(lines: string): Uint8Array {
  return encoder.encode(`NATS/1.0\r\n${lines}`);
}

/** Header lines (or any text) encoded once, to be copied with {@link HeaderBlockWriter.putBytes}. */
export function headerBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Encoded events up to this size are copied into the slab beside their header block; larger ones are kept as they are. */
export const SMALL_COPY_BYTES = 2048;

/** Bytes per slab: a few hundred header blocks of a typical event. */
const SLAB_BYTES = 128 * 1024;

/** Byte arrays up to this length are copied by a loop: `TypedArray#set` costs more for a few bytes. */
const LOOP_COPY_BYTES = 64;

/**
 * Writes NATS header blocks and small encoded events into large slabs
 * instead of one fresh `ArrayBuffer` per event: a `TextEncoder.encode` of the
 * whole ~330-byte block per event, and the garbage it left, were the largest
 * single cost of a publish after nats.js itself. Bytes written are never
 * overwritten (the write position only moves forward, and a full slab is
 * replaced, not reused), so they stay valid as long as the slab is
 * referenced: a retry sends the same bytes.
 *
 * A writer {@link reserve}s room for everything it writes together, then
 * writes with the `put*` methods at {@link pos}, keeping positions rather
 * than views (a view is one more object per event for the garbage
 * collector). Callers pass header-safe values and valid names.
 */
export class HeaderBlockWriter {
  private slab = new Uint8Array(0);
  /** The slab as a `Buffer`, for its UTF-8 `write`. */
  buf = Buffer.alloc(0);
  /** The write position in {@link bytes}. */
  pos = 0;

  /** The current slab: what {@link pos} indexes, and where the `put*` methods write. */
  get bytes(): Uint8Array {
    return this.slab;
  }

  /**
   * Makes room for `bytes` bytes from {@link pos}, starting a new slab when
   * the current one has not that much left (positions taken before then
   * belong to the old slab: reserve once, for everything written together).
   */
  reserve(bytes: number): void {
    if (this.pos + bytes > this.slab.length) {
      // not zero-filled: only bytes written here are ever read or sent
      this.buf = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes));
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
