/**
 * nats.js's protocol handler, through which Chronicle writes whole protocol
 * frames itself (the producer's `HPUB`s, a member's acks and idempotency
 * records as `PUB`s): nats.js then gets one buffer per batch of messages
 * instead of building and UTF-8 encoding a protocol line string per message.
 */

/** The parts of nats.js's protocol handler (`NatsConnectionImpl.protocol`, not in its public types) frames are sent through. @private */
export interface FrameSink {
  /** Queues bytes for the socket, flushing as nats.js does for its own publishes. */
  sendCommand(cmd: Uint8Array, ...payloads: Uint8Array[]): void;
  /** Set while the connection drains: nats.js refuses publishes then. */
  noMorePublishing: boolean;
  /** The connected server's INFO. */
  info?: { headers?: boolean; max_payload: number };
  outBytes: number;
  outMsgs: number;
}

/**
 * nats.js's protocol handler of a connection, when it has the shape
 * {@link FrameSink} describes (nats.js 3), else undefined: callers then
 * publish through `nc.publish`. @private
 */
export function frameSinkOf(nc: unknown): FrameSink | undefined {
  const p = (nc as { protocol?: Partial<FrameSink> } | undefined)?.protocol;
  if (!p || typeof p.sendCommand !== "function" || typeof p.outBytes !== "number" || typeof p.outMsgs !== "number" || typeof p.noMorePublishing !== "boolean") {
    return undefined;
  }
  return p as FrameSink;
}

/** CR LF, the end of a frame. @private */
export const CRLF = new Uint8Array([13, 10]);

const encoder = new TextEncoder();

/**
 * Sends `frames`, whole `PUB` frames written as text (subjects and payloads
 * in ASCII), as one buffer, and counts them in nats.js's statistics as
 * `messages` messages of `payloadBytes` bytes together. Returns false, having
 * sent nothing, when frames cannot go this way: no sink, a connection that
 * is closed or draining (the caller then publishes through `nc.publish`,
 * which reports why), or no server INFO yet. @private
 */
export function sendTextFrames(nc: { isClosed(): boolean }, sink: FrameSink | undefined, frames: string, messages: number, payloadBytes: number): boolean {
  if (sink === undefined || nc.isClosed() || sink.noMorePublishing || sink.info === undefined) return false;
  sink.sendCommand(encoder.encode(frames));
  sink.outMsgs += messages;
  sink.outBytes += payloadBytes;
  return true;
}
