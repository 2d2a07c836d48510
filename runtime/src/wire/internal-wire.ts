import { ClosedConnectionError, DrainingConnectionError, InvalidArgumentError, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { frameHeadRoom, writeFrameHead } from "./frame-head.js";
import { HeaderText } from "./header-text.js";
import { tokenFromBytes, tokenFromSubject, WildcardInbox } from "./inbox.js";
import { decodedHeadersOf, inboxPrefixOf, rawBytesOf, rawSubjectOf, sendTextFrames, utf8Slice, type ProtocolHandler } from "./nats-internals.js";
import { PublicWire } from "./public-wire.js";
import type { HeadedMessage, InboxHandler, PublishTarget, ReplyInbox, TextMessage, Wire } from "./types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = new Uint8Array([13, 10]);

/** A target whose frames start with `HPUB <subject> `, encoded once. */
class FrameTarget implements PublishTarget {
  readonly framePrefix: Uint8Array;
  constructor(readonly subject: string) {
    this.framePrefix = encoder.encode(`HPUB ${subject} `);
  }
}

/** An inbox whose replies' tokens are read from the subject bytes nats.js parsed, and whose `<inbox>.` is kept encoded for frame heads. */
class FrameInbox extends WildcardInbox {
  readonly replyPrefix: Uint8Array;
  constructor(nc: NatsConnection, prefix: string | undefined, handler: InboxHandler) {
    super(nc, prefix, handler, (msg, skip) => {
      const raw = rawSubjectOf(msg);
      return raw === undefined ? tokenFromSubject(msg, skip) : tokenFromBytes(raw, skip);
    });
    this.replyPrefix = encoder.encode(`${this.subject}.`);
  }
}

/** The text of the first `length` bytes of `bytes` (UTF-8). */
function textOf(bytes: Uint8Array, length: number): string {
  return utf8Slice ? utf8Slice.call(bytes, 0, length) : decoder.decode(bytes.subarray(0, length));
}

/**
 * The {@link Wire} that uses nats.js 3.4's internals (`nats-internals.ts`):
 * whole protocol frames written into its protocol handler's buffer, reply
 * tokens and header blocks read from the bytes nats.js parsed, acks marked
 * as nats.js marks them. Where an internal is missing (another nats.js
 * version) each operation does what {@link PublicWire} does.
 */
export class InternalWire implements Wire {
  readonly kind = "internal" as const;
  private readonly inboxPrefix: string | undefined;
  private readonly fallback: PublicWire;

  constructor(
    private readonly nc: NatsConnection,
    private readonly protocol: ProtocolHandler,
    inboxPrefix: string | undefined,
  ) {
    this.inboxPrefix = inboxPrefix ?? inboxPrefixOf(nc);
    this.fallback = new PublicWire(nc, this.inboxPrefix);
  }

  openInbox(handler: InboxHandler): ReplyInbox {
    return new FrameInbox(this.nc, this.inboxPrefix, handler);
  }

  target(subject: string): PublishTarget {
    return new FrameTarget(subject);
  }

  headRoom(target: PublishTarget, inbox: ReplyInbox): number {
    return target instanceof FrameTarget && inbox instanceof FrameInbox ? frameHeadRoom(target.framePrefix, inbox.replyPrefix) : 0;
  }

  /** Throws what `nc.publish` throws when the connection cannot publish now. */
  private checkOpen(): void {
    if (this.nc.isClosed()) throw new ClosedConnectionError();
    if (this.protocol.noMorePublishing) throw new DrainingConnectionError();
  }

  /**
   * One `HPUB` frame: its head written into the room before the header block
   * on a first send (one buffer for the socket), into a small array of its
   * own on a resend (the first head may still be queued for the socket).
   */
  publishHeaded(message: HeadedMessage, inbox: ReplyInbox, token: number, first: boolean): void {
    const target = message.target;
    const info = this.protocol.info;
    if (!(target instanceof FrameTarget) || !(inbox instanceof FrameInbox) || info?.headers !== true) {
      this.fallback.publishHeaded(message, inbox, token);
      return;
    }
    this.checkOpen();
    const { slab, headerStart, headerEnd, payloadEnd, large } = message;
    const headerBytes = headerEnd - headerStart;
    const total = headerBytes + (large === undefined ? payloadEnd - headerEnd : large.length);
    if (total > info.max_payload) throw InvalidArgumentError.format("payload", "max_payload size exceeded");
    const prefix = target.framePrefix;
    const reply = inbox.replyPrefix;
    const p = this.protocol;
    if (first) {
      const start = writeFrameHead(slab, headerStart, prefix, reply, token, headerBytes, total);
      if (large === undefined) p.sendCommand(slab.subarray(start, payloadEnd + 2));
      else p.sendCommand(slab.subarray(start, headerEnd), large, CRLF);
    } else {
      const room = frameHeadRoom(prefix, reply);
      const head = new Uint8Array(room);
      const start = writeFrameHead(head, room, prefix, reply, token, headerBytes, total);
      if (large === undefined) p.sendCommand(head.subarray(start), slab.subarray(headerStart, payloadEnd + 2));
      else p.sendCommand(head.subarray(start), slab.subarray(headerStart, headerEnd), large, CRLF);
    }
    p.outBytes += total;
    p.outMsgs++;
  }

  /** `PUB` frames written as one string, encoded once: one buffer for the batch. */
  publishText(messages: readonly TextMessage[], failed: (index: number, error: unknown) => void): void {
    const info = this.protocol.info;
    if (info === undefined || !this.canSendFrames()) {
      this.fallback.publishText(messages, failed);
      return;
    }
    let frames = "";
    let sent = 0;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const size = Buffer.byteLength(m.payload);
      if (size > info.max_payload) {
        // nats.js refuses it with its own error
        this.fallback.publishText([m], (_, err) => failed(i, err));
        continue;
      }
      frames += m.reply ? `PUB ${m.subject} ${m.reply} ${size}\r\n${m.payload}\r\n` : `PUB ${m.subject} ${size}\r\n${m.payload}\r\n`;
      sent++;
      bytes += size;
    }
    if (sent > 0) sendTextFrames(this.nc, this.protocol, frames, sent, bytes);
  }

  /** True when frames can go to the protocol handler now: connected, not closed, not draining. */
  private canSendFrames(): boolean {
    return !this.nc.isClosed() && !this.protocol.noMorePublishing && this.protocol.info !== undefined;
  }

  headers(msg: Msg): HeaderText {
    const raw = rawBytesOf(msg);
    // headers nats.js decoded already (someone read msg.headers) cost nothing more to read through its API
    if (raw === undefined || decodedHeadersOf(msg) !== undefined) return this.fallback.headers(msg);
    return raw.headerLength === 0 ? HeaderText.of({}) : new HeaderText(textOf(raw.bytes, raw.headerLength));
  }
}
