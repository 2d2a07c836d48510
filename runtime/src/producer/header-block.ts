import type { MsgHdrs } from "@nats-io/transport-node";

const encoder = new TextEncoder();
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when nats.js would keep a header value verbatim: no CR/LF, no white space at the ends. @private */
export function headerSafe(v: string): boolean {
  return !/[\r\n]/.test(v) && v.trim() === v;
}

/** True for a valid header field name (RFC 9110 token). @private */
export function validHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/**
 * A NATS header block built as text and encoded once. nats.js's publish
 * only calls `encode()` on the headers it is given; building the block
 * directly avoids a `MsgHdrs` map, its per-call validation and a second
 * serialisation per event, which is a large share of a publish's cost.
 * Callers must pass header-safe values and valid names. @private
 */
export function headerBlock(lines: string): MsgHdrs {
  return new EncodedHeaders(encoder.encode(`NATS/1.0\r\n${lines}\r\n`)) as unknown as MsgHdrs;
}

/** The one method of `MsgHdrs` that nats.js's publish calls. */
class EncodedHeaders {
  constructor(private readonly bytes: Uint8Array) {}
  encode(): Uint8Array {
    return this.bytes;
  }
}

/** One header line of a block. @private */
export function headerLine(name: string, value: string): string {
  return `${name}: ${value}\r\n`;
}
