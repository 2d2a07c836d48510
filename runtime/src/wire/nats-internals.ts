/**
 * The private parts of nats.js 3.4 (and one of Node's `Buffer`) that the
 * internal wire uses, each behind an accessor that answers `undefined` when
 * the part does not have the expected shape, so that the internal wire then
 * does what the public one does. This is the only file of Chronicle that
 * names them; nats-internals.test.ts pins each against the installed
 * nats.js, so an upgrade that moves one fails there.
 */
import type { Msg, NatsConnection } from "@nats-io/transport-node";

/** The nats.js version these internals were read from; the contract test fails on any other. */
export const NATS_JS_VERSION = "3.4.0";

/** `NatsConnectionImpl.protocol` (`ProtocolHandler`): the connection's write buffer and statistics. */
export interface ProtocolHandler {
  /** Queues bytes for the socket and flushes as nats.js does for its own publishes. */
  sendCommand(cmd: Uint8Array, ...payloads: Uint8Array[]): void;
  /** Set while the connection drains: nats.js refuses publishes then. */
  noMorePublishing: boolean;
  /** The connected server's INFO; undefined before the first. */
  info?: { headers?: boolean; max_payload: number };
  /** Statistics `nc.stats()` reports. */
  outBytes: number;
  outMsgs: number;
}

/** The protocol handler of `nc`, or undefined. */
export function protocolOf(nc: NatsConnection): ProtocolHandler | undefined {
  const p = (nc as unknown as { protocol?: Partial<ProtocolHandler> }).protocol;
  if (!p || typeof p.sendCommand !== "function" || typeof p.outBytes !== "number" || typeof p.outMsgs !== "number" || typeof p.noMorePublishing !== "boolean") {
    return undefined;
  }
  return p as ProtocolHandler;
}

const encoder = new TextEncoder();

/**
 * Sends whole protocol frames written as text (`PUB` frames) through the
 * protocol handler as one buffer, counting them in nats.js's statistics as
 * `messages` messages of `payloadBytes` bytes; false, having sent nothing,
 * when there is no handler or the connection is closed, draining or not yet
 * connected (nats.js's own publish then says why).
 */
export function sendTextFrames(
  nc: { isClosed(): boolean },
  protocol: ProtocolHandler | undefined,
  frames: string,
  messages: number,
  payloadBytes: number,
): boolean {
  if (protocol === undefined || nc.isClosed() || protocol.noMorePublishing || protocol.info === undefined) return false;
  protocol.sendCommand(encoder.encode(frames));
  protocol.outMsgs += messages;
  protocol.outBytes += payloadBytes;
  return true;
}

/** `NatsConnectionImpl.options.inboxPrefix`: the prefix `nc.request` uses for reply subjects, when the application set one. */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const prefix = (nc as unknown as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === "string" && prefix.length > 0 ? prefix : undefined;
}

/** The parts of `MsgImpl` read: the parsed protocol line (`_msg`), the header block and payload bytes (`_rdata`), the decoded headers (`_headers`). */
interface MsgImpl {
  _msg?: { subject?: unknown; hdr?: unknown };
  _rdata?: unknown;
  _headers?: unknown;
}

/** A core message's subject as the bytes nats.js parsed (`MsgImpl._msg.subject`), before it decodes them to a string. */
export function rawSubjectOf(msg: Msg): Uint8Array | undefined {
  const subject = (msg as unknown as MsgImpl)._msg?.subject;
  return subject instanceof Uint8Array ? subject : undefined;
}

/** A core message's bytes (`MsgImpl._rdata`) and the length of the header block at their start (`_msg.hdr`, 0 for none). */
export function rawBytesOf(msg: Msg): { bytes: Uint8Array; headerLength: number } | undefined {
  const impl = msg as unknown as MsgImpl;
  const bytes = impl._rdata;
  const hdr = impl._msg?.hdr;
  if (!(bytes instanceof Uint8Array) || typeof hdr !== "number") return undefined;
  return { bytes, headerLength: hdr > 0 ? hdr : 0 };
}

/**
 * `MsgImpl._headers`: what `msg.headers` returns once decoded (and decodes
 * into when unset). Reading it never decodes.
 */
export function decodedHeadersOf(msg: Msg): unknown {
  return (msg as unknown as MsgImpl)._headers;
}

/**
 * Node's `Buffer.prototype.utf8Slice` (undocumented): decodes bytes of any
 * `Uint8Array` without making a view of them first.
 */
export const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: (this: Uint8Array, start: number, end: number) => string }).utf8Slice;
