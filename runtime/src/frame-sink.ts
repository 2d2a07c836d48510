/**
 * What consumer/ack-batch.ts and consumer/fast-path.test.ts import until the
 * consumer uses the wire (`wire/types.ts`): nats.js's protocol handler and a
 * batch of text frames sent through it. New code uses the wire.
 */
export { protocolOf as frameSinkOf, sendTextFrames, type ProtocolHandler as FrameSink } from "./wire/nats-internals.js";
