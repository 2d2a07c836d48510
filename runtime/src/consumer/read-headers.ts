import type { JsMsg } from "@nats-io/jetstream";
import { DeliveryHeaders, headerText } from "./delivery-headers.js";
import { takeParsedHeaders } from "./fast-headers.js";

/** The parts of nats.js 3.x message objects this reads, when present. */
interface RawMsg {
  msg?: { _rdata?: unknown; _msg?: { hdr?: unknown }; _headers?: { headers?: unknown } };
}

/**
 * The headers of a delivered message (first value of each name, names as
 * sent), read lazily from the header block's text (see {@link DeliveryHeaders}).
 *
 * nats.js decodes headers into a `MsgHdrs` whose every `get` builds and
 * filters an array of all names, and whose decoding canonicalises and
 * validates each name again: together about as much CPU per event as the
 * rest of the consumer's own work. This takes the reader
 * {@link parseDeliveryHeadersOnce} made while nats.js dispatched the
 * message, or reads the raw header block of the nats.js 3.x message,
 * or copies what nats.js decoded already, and falls back to the public
 * `headers` API when the message does not have the expected shape.
 * @private
 */
export function readHeaders(m: JsMsg): DeliveryHeaders {
  const inner = (m as unknown as RawMsg).msg;
  const parsed = takeParsedHeaders(inner);
  if (parsed) return parsed;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  const decoded = inner?._headers?.headers;
  if (decoded instanceof Map) {
    const out: Record<string, string> = {};
    for (const [k, v] of decoded as Map<string, string[]>) if (v.length > 0) out[k] = v[0]!;
    return DeliveryHeaders.of(out);
  }
  if (inner && inner._headers === undefined && raw instanceof Uint8Array && typeof hdr === "number") {
    return hdr <= 0 ? DeliveryHeaders.of({}) : new DeliveryHeaders(headerText(raw, hdr));
  }
  const out: Record<string, string> = {};
  if (m.headers) for (const k of m.headers.keys()) out[k] = m.headers.get(k);
  return DeliveryHeaders.of(out);
}
