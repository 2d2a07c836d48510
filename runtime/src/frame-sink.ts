/**
 * What consumer/ack-batch.ts and consumer/fast-path.test.ts import until the
 * consumer uses the wire (`wire/types.ts`): nats.js's protocol handler and a
 * batch of text frames sent through it. New code uses the wire.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { protocolOf, type ProtocolHandler } from "./wire/nats-internals.js";

/** nats.js's protocol handler. @private */
export type FrameSink = ProtocolHandler;

/** nats.js's protocol handler of a connection, or undefined when it does not have the expected shape. @private */
export function frameSinkOf(nc: unknown): FrameSink | undefined {
  return protocolOf(nc as NatsConnection);
}

const encoder = new TextEncoder();

/**
 * Sends whole `PUB` frames written as text as one buffer, counting them in
 * nats.js's statistics; false, having sent nothing, when the connection is
 * closed, draining or not yet connected, or there is no sink. @private
 */
export function sendTextFrames(nc: { isClosed(): boolean }, sink: FrameSink | undefined, frames: string, messages: number, payloadBytes: number): boolean {
  if (sink === undefined || nc.isClosed() || sink.noMorePublishing || sink.info === undefined) return false;
  sink.sendCommand(encoder.encode(frames));
  sink.outMsgs += messages;
  sink.outBytes += payloadBytes;
  return true;
}
