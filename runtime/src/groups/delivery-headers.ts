import type { Msg } from "@nats-io/transport-node";
import { headerBlockText } from "./nats-internals.js";

/**
 * Parses a NATS header block (`NATS/1.0[ code description]\r\nName: value\r\n...\r\n\r\n`),
 * as text, into a record of the first value of each name, names as sent. @private
 */
export function parseHeaderText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let at = text.indexOf("\r\n");
  while (at >= 0 && at + 2 < text.length) {
    const start = at + 2;
    const end = text.indexOf("\r\n", start);
    const stop = end < 0 ? text.length : end;
    at = end;
    const colon = text.indexOf(":", start);
    if (colon <= start || colon >= stop) continue;
    const name = text.slice(start, colon);
    if (out[name] === undefined) out[name] = text.slice(colon + 1, stop).trim();
  }
  return out;
}

/** `\r\n<name>:` per header name looked up, so that a lookup builds no string. */
const needles = new Map<string, string>();

function needleOf(name: string): string {
  let needle = needles.get(name);
  if (needle === undefined) {
    needle = `\r\n${name}:`;
    if (needles.size < 256) needles.set(name, needle);
  }
  return needle;
}

/**
 * The headers of one delivery. The member reads a handful of them per event
 * (partition key, id, type, time), so they are found in the header block's
 * text as asked for; the whole record of names and values is made only when
 * something asks for all of them (a handler reading `ctx.headers`). Names are
 * matched as sent; the first value of a name counts. @private
 */
export class DeliveryHeaders {
  private record: Record<string, string> | undefined;

  /** Headers read from the text of a header block, or given as a record. */
  constructor(
    private readonly text: string,
    record?: Record<string, string>,
  ) {
    this.record = record;
  }

  /** Headers already in a record. */
  static of(record: Record<string, string>): DeliveryHeaders {
    return new DeliveryHeaders("", record);
  }

  /** The first value of `name`, trimmed; undefined when absent. */
  get(name: string): string | undefined {
    if (this.record) return this.record[name];
    const text = this.text;
    const at = text.indexOf(needleOf(name));
    if (at < 0) return undefined;
    const from = at + name.length + 3;
    const end = text.indexOf("\r\n", from);
    const stop = end < 0 ? text.length : end;
    // the usual "Name: value" form needs no trimming
    if (text.charCodeAt(from) === 32 && stop > from + 1 && text.charCodeAt(from + 1) > 32 && text.charCodeAt(stop - 1) > 32) return text.slice(from + 1, stop);
    return text.slice(from, stop).trim();
  }

  /** Every header: the first value of each name. */
  all(): Record<string, string> {
    return (this.record ??= parseHeaderText(this.text));
  }
}

/**
 * The headers of a delivered message: found in the text of its header block
 * as asked for, or, where that text is not available, copied from nats.js's
 * decoded headers (the first value of each name). @private
 */
export function headersOf(m: Msg): DeliveryHeaders {
  const text = headerBlockText(m);
  if (text !== undefined) return text === "" ? DeliveryHeaders.of({}) : new DeliveryHeaders(text);
  const out: Record<string, string> = {};
  const h = m.headers;
  if (h) for (const k of h.keys()) out[k] = h.get(k);
  return DeliveryHeaders.of(out);
}
