/** What a JetStream delivery's reply subject says about it. @private */
export interface DeliveryInfo {
  /** 1 for a first delivery. */
  deliveryCount: number;
  streamSequence: number;
  /** The consumer's own sequence: consecutive for one consumer, so a gap is a lost delivery. */
  consumerSequence: number;
  /** Messages of the consumer not yet delivered. */
  pending: number;
  timestampNanos: number;
}

/** Positions of the dots of the subject being read (one subject at a time, synchronously). */
const dots = new Int32Array(16);

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

/**
 * Reads a delivery's ack subject, `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`
 * (or the form with a domain and account hash before the stream and a token after), without splitting
 * it: nats.js's `info` makes an array of its parts and splices it for every message. Undefined when
 * `reply` is not such a subject. @private
 */
export function readDeliveryInfo(reply: string): DeliveryInfo | undefined {
  if (!reply.startsWith("$JS.ACK.")) return undefined;
  let count = 0;
  for (let at = reply.indexOf("."); at >= 0 && count < dots.length; at = reply.indexOf(".", at + 1)) dots[count++] = at;
  // 9 parts (8 dots), or 11 and more with the domain and account hash: the delivery count is part 4 or 6
  const first = count === 8 ? 4 : count >= 10 ? 6 : -1;
  if (first < 0) return undefined;
  const info: DeliveryInfo = {
    deliveryCount: numberAt(reply, first, count),
    streamSequence: numberAt(reply, first + 1, count),
    consumerSequence: numberAt(reply, first + 2, count),
    timestampNanos: numberAt(reply, first + 3, count),
    pending: numberAt(reply, first + 4, count),
  };
  if (Number.isNaN(info.deliveryCount) || Number.isNaN(info.streamSequence) || Number.isNaN(info.consumerSequence) || Number.isNaN(info.pending))
    return undefined;
  return info;
}
