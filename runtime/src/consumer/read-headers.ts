import type { JsMsg } from "@nats-io/jetstream";

const decoder = new TextDecoder();

/** The parts of nats.js 3.x message objects this reads, when present. */
interface RawMsg {
  msg?: { _rdata?: unknown; _msg?: { hdr?: unknown }; _headers?: { headers?: unknown } };
}

/**
 * The headers of a delivered message as a plain record (first value of each
 * name, names as sent).
 *
 * nats.js decodes headers into a `MsgHdrs` whose every `get` builds and
 * filters an array of all names, and whose decoding canonicalises and
 * validates each name again: together about as much CPU per event as the
 * rest of the consumer's own work. This parses the raw header block of the
 * nats.js 3.x message once instead, and falls back to the public `headers`
 * API when the message does not have the expected shape. When nats.js has
 * decoded them already (a pinned consumer reads `Nats-Pin-Id` from every
 * message), it copies the decoded map's first values.
 * @private
 */
export function readHeaders(m: JsMsg): Record<string, string> {
  const inner = (m as unknown as RawMsg).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  const decoded = inner?._headers?.headers;
  if (decoded instanceof Map) {
    const out: Record<string, string> = {};
    for (const [k, v] of decoded as Map<string, string[]>) if (v.length > 0) out[k] = v[0]!;
    return out;
  }
  if (inner && inner._headers === undefined && raw instanceof Uint8Array && typeof hdr === "number") {
    const out: Record<string, string> = {};
    if (hdr <= 0) return out;
    const text = decoder.decode(raw.subarray(0, hdr));
    // "NATS/1.0[ code description]\r\nName: value\r\n...\r\n\r\n"
    let at = text.indexOf("\r\n");
    while (at >= 0 && at + 2 < text.length) {
      const start = at + 2;
      const end = text.indexOf("\r\n", start);
      const line = end < 0 ? text.slice(start) : text.slice(start, end);
      at = end;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon);
      if (out[name] === undefined) out[name] = line.slice(colon + 1).trim();
    }
    return out;
  }
  const out: Record<string, string> = {};
  if (m.headers) for (const k of m.headers.keys()) out[k] = m.headers.get(k);
  return out;
}
