import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { ClosedConnectionError, DrainingConnectionError, InvalidArgumentError, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { parseAckSubject } from "./ack-subject.js";
import { frameHeadRoom, writeFrameHead } from "./frame-head.js";
import { HeaderText } from "./header-text.js";
import { tokenFromBytes, tokenFromSubject, WildcardInbox } from "./inbox.js";
import {
  ackedFlagOf,
  coreMsgOf,
  decodedHeadersOf,
  hasRawReply,
  inboxPrefixOf,
  rawBytesOf,
  rawSubjectOf,
  replyOf,
  sendTextFrames,
  setAckedFlag,
  setDecodedHeaders,
  subscriptionOf,
  utf8Slice,
  type ProtocolHandler,
} from "./nats-internals.js";
import { PublicWire } from "./public-wire.js";
import type { DeliveryInfo, HeadedMessage, InboxHandler, PublishTarget, ReplyInbox, TextMessage, Wire } from "./types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = new Uint8Array([13, 10]);
/** The payload of an ack, `+ACK`. */
const ACK_BYTES = 4;

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
 * The message being dispatched by a subscription whose headers
 * {@link InternalWire.readDeliveryHeadersOnce} read, and their text: dispatch
 * is synchronous, so one message at a time.
 */
let dispatching: Msg | undefined;
let dispatchingText = "";

/**
 * Stands in for nats.js's decoded headers of a delivery while its pinned
 * consumer reads `Nats-Pin-Id`, once: the read takes it out again, so that
 * anything else gets nats.js's own full headers.
 */
class PinReader {
  constructor(
    private readonly msg: Msg,
    private readonly text: HeaderText,
  ) {}
  get(name: string): string {
    setDecodedHeaders(this.msg, undefined);
    return this.text.get(name) ?? "";
  }
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

  /** `PUB <reply> 4\r\n+ACK\r\n` frames, one buffer; each message marked acknowledged as its own `ack()` would mark it. */
  ackAll(messages: readonly JsMsg[]): void {
    const open = this.canSendFrames();
    let frames = "";
    let marked = 0;
    for (const m of messages) {
      const acked = ackedFlagOf(m);
      const reply = replyOf(m);
      if (open && acked === false && reply !== undefined) {
        frames += `PUB ${reply} 4\r\n+ACK\r\n`;
        setAckedFlag(m, true);
        marked++;
      } else if (acked !== true) m.ack(); // nats.js says why it cannot (closed, draining)
    }
    if (marked > 0) sendTextFrames(this.nc, this.protocol, frames, marked, ACK_BYTES * marked);
  }

  deliveryInfo(m: JsMsg): DeliveryInfo | undefined {
    const reply = replyOf(m);
    return reply === undefined ? this.fallback.deliveryInfo(m) : parseAckSubject(reply);
  }

  deliveryHeaders(m: JsMsg): HeaderText {
    const core = coreMsgOf(m);
    if (core === undefined) return this.fallback.deliveryHeaders(m);
    if (core === dispatching) return new HeaderText(dispatchingText);
    const raw = rawBytesOf(core);
    // headers nats.js decoded already (someone read m.headers) cost nothing more to read through its API
    if (raw === undefined || decodedHeadersOf(core) !== undefined) return this.fallback.deliveryHeaders(m);
    return raw.headerLength === 0 ? HeaderText.of({}) : new HeaderText(textOf(raw.bytes, raw.headerLength));
  }

  /**
   * Wraps the subscription callback of a callback `consume()`: a delivery's
   * header block is read as text once, before nats.js sees the message;
   * nats.js's pin check reads its pin from that text (once: after it, or
   * once the callback returns, `m.headers` decodes in full as usual), and
   * {@link deliveryHeaders} answers from it while the message is dispatched.
   * Status messages (heartbeats, ends of pulls) carry no reply and pass
   * through untouched.
   */
  readDeliveryHeadersOnce(messages: ConsumerMessages): boolean {
    const sub = subscriptionOf(messages);
    if (sub === undefined) return false;
    const next = sub.callback;
    sub.callback = (err: unknown, msg: Msg) => {
      const raw = err ? undefined : rawBytesOf(msg);
      if (raw === undefined || raw.headerLength === 0 || decodedHeadersOf(msg) !== undefined || !hasRawReply(msg)) {
        next(err, msg);
        return;
      }
      const text = textOf(raw.bytes, raw.headerLength);
      dispatching = msg;
      dispatchingText = text;
      setDecodedHeaders(msg, new PinReader(msg, new HeaderText(text)));
      try {
        next(err, msg);
      } finally {
        setDecodedHeaders(msg, undefined);
        dispatching = undefined;
        dispatchingText = "";
      }
    };
    return true;
  }
}
