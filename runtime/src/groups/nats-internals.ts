import type { Msg } from "@nats-io/transport-node";

/**
 * The one place where consumer groups read nats.js internals, for speed
 * measured on the hot path (docs/decisions: "Consumer groups read header
 * bytes"). Each function has a public-API answer beside it, used when the
 * internals do not have the expected shape, and everywhere when the
 * environment sets `CHRONICLE_NATS_INTERNALS=0` (CI runs the group tests
 * that way too).
 */

/** False when `CHRONICLE_NATS_INTERNALS=0`: only nats.js's public API is used. @private */
export const internalsEnabled = process.env["CHRONICLE_NATS_INTERNALS"] !== "0";

/** The parts of a nats.js 3.x core message (`MsgImpl`, not in its public types) read here. */
interface RawMsg {
  _rdata?: unknown;
  _msg?: { hdr?: unknown };
  _headers?: unknown;
}

const decoder = new TextDecoder();
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: (this: Uint8Array, start: number, end: number) => string }).utf8Slice;

/**
 * The text of a delivered message's header block (`NATS/1.0\r\nName: value\r\n...`),
 * read from the bytes nats.js received, without nats.js decoding every
 * header into its `MsgHdrs` (about as much CPU per event as the rest of a
 * member's own work: names canonicalised, an array per name, a regular
 * expression per value). `""` when the message has no headers; undefined
 * when the internals are off or not as expected: then read `m.headers`.
 * @private
 */
export function headerBlockText(m: Msg): string | undefined {
  if (!internalsEnabled) return undefined;
  const raw = m as unknown as RawMsg;
  const bytes = raw._rdata;
  const length = raw._msg?.hdr;
  if (raw._headers !== undefined || !(bytes instanceof Uint8Array) || typeof length !== "number") return undefined;
  if (length <= 0) return "";
  return utf8Slice ? utf8Slice.call(bytes, 0, length) : decoder.decode(bytes.subarray(0, length));
}
