/**
 * NATS `HPUB` frame heads written into the room a message's writer left
 * before its header block, so that the whole frame goes to the socket as one
 * buffer: nats.js's `publish` builds and UTF-8-encodes a protocol line string
 * per message instead, which with its garbage cost about a microsecond per
 * event, more than the rest of the producer's own work.
 */

/** Digits of a reply token (a safe integer), of a header block size and of a total size, at most. */
const TOKEN_DIGITS = 16;
const SIZE_DIGITS = 10;
/** Two spaces and CR LF. */
const SEPARATORS = 4;

/**
 * Room a frame head takes at most, for a given `HPUB <subject> ` and
 * `<inbox>.`: the reply token, the header and total sizes, two spaces and
 * CR LF.
 */
export function frameHeadRoom(prefix: Uint8Array, reply: Uint8Array): number {
  return prefix.length + reply.length + TOKEN_DIGITS + SIZE_DIGITS + SIZE_DIGITS + SEPARATORS;
}

/**
 * Writes `HPUB <subject> <inbox>.<token> <headerBytes> <totalBytes>\r\n`
 * so that it ends at `end` (right before the header block), and returns
 * where it starts. `prefix` is `HPUB <subject> `, `reply` is `<inbox>.`,
 * both encoded.
 */
export function writeFrameHead(
  out: Uint8Array,
  end: number,
  prefix: Uint8Array,
  reply: Uint8Array,
  token: number,
  headerBytes: number,
  totalBytes: number,
): number {
  let p = end;
  out[--p] = 10;
  out[--p] = 13;
  p = decimalBefore(out, p, totalBytes);
  out[--p] = 32;
  p = decimalBefore(out, p, headerBytes);
  out[--p] = 32;
  p = decimalBefore(out, p, token);
  for (let i = reply.length - 1; i >= 0; i--) out[--p] = reply[i]!;
  for (let i = prefix.length - 1; i >= 0; i--) out[--p] = prefix[i]!;
  return p;
}

/** Writes the decimal digits of a non-negative integer so that they end at `p`; returns where they start. */
function decimalBefore(out: Uint8Array, p: number, n: number): number {
  do {
    const q = Math.floor(n / 10);
    const digit = n - q * 10; // before adding 48: 48 + n is inexact above 2^53 - 48
    out[--p] = 48 + digit;
    n = q;
  } while (n > 0);
  return p;
}
