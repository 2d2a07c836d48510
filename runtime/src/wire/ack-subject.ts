import type { DeliveryInfo } from "./types.js";

const ACK_PREFIX = "$JS.ACK.";
/** Dots of `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`. */
const V1_DOTS = 8;
/** At least this many dots in the form with `<domain>.<account hash>` before the stream (and a random token after). */
const V2_MIN_DOTS = 10;
const MAX_DOTS = 16;

/** Positions of the dots of the subject being read (one subject at a time, synchronously). */
const dots = new Int32Array(MAX_DOTS);

/** The decimal number in the `token`th dot-separated part (0-based) of `reply`, or NaN. */
function numberAt(reply: string, token: number, count: number): number {
  const from = dots[token - 1]! + 1;
  const to = token < count ? dots[token]! : reply.length;
  if (to <= from) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = reply.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    n = n * 10 + digit;
  }
  return n;
}

/** The `token`th part of `reply` as a number correctly rounded (nanosecond times are beyond 2^53), or NaN. */
function roundedNumberAt(reply: string, token: number, count: number): number {
  const from = dots[token - 1]! + 1;
  const to = token < count ? dots[token]! : reply.length;
  return to > from ? Number(reply.slice(from, to)) : NaN;
}

/**
 * Reads a JetStream delivery's ack subject (both of the server's forms)
 * without splitting it into an array; undefined when `reply` is not one.
 */
export function parseAckSubject(reply: string): DeliveryInfo | undefined {
  if (!reply.startsWith(ACK_PREFIX)) return undefined;
  let count = 0;
  for (let at = reply.indexOf("."); at >= 0 && count < MAX_DOTS; at = reply.indexOf(".", at + 1)) dots[count++] = at;
  // the delivery count is part 4 of the short form, part 6 of the long one
  const first = count === V1_DOTS ? 4 : count >= V2_MIN_DOTS ? 6 : -1;
  if (first < 0) return undefined;
  const info: DeliveryInfo = {
    deliveryCount: numberAt(reply, first, count),
    streamSequence: numberAt(reply, first + 1, count),
    timestampNanos: roundedNumberAt(reply, first + 3, count),
    pending: numberAt(reply, first + 4, count),
  };
  if (Number.isNaN(info.deliveryCount) || Number.isNaN(info.streamSequence) || Number.isNaN(info.pending)) return undefined;
  return info;
}
