import type { Msg } from "@nats-io/transport-node";
import type { HeaderText } from "./header-text.js";

/**
 * Which implementation of {@link Wire} a connection uses: `internal` writes
 * protocol frames through nats.js 3.4's private protocol handler and reads
 * its private message fields (faster: see docs/decisions/README.md);
 * `public` uses nats.js's public API only (any nats.js 3.x).
 */
export type WireKind = "internal" | "public";

/** Environment variable that selects the {@link WireKind} of connections made without the `wire` option. */
export const WIRE_ENV = "CHRONICLE_WIRE";

/**
 * Replies to the requests sent under one {@link ReplyInbox}, by the number
 * (token) that ends their reply subject.
 */
export interface InboxHandler {
  /** A reply to `<inbox>.<token>`; `msg.data` and `msg.headers` are nats.js's. */
  reply(token: number, msg: Msg): void;
  /** The inbox subscription failed (a permissions violation); no reply will come. */
  error(err: Error): void;
}

/**
 * A wildcard subscription to `<inbox>.*` through which many requests are in
 * flight at once: each is sent with the reply subject `<inbox>.<token>`, a
 * decimal counter of the caller's, and its answer is handed back by token.
 */
export interface ReplyInbox {
  /** `<inbox>`: replies come on `<inbox>.<token>`. */
  readonly subject: string;
  /** Unsubscribes; later replies are dropped. */
  close(): void;
}

/** A subject prepared for repeated publishing (see {@link Wire.target}). */
export interface PublishTarget {
  readonly subject: string;
}

/**
 * A message with a header block, laid out by its writer in one byte array so
 * that it can be sent without copying: free room before `headerStart`
 * (at least {@link Wire.headRoom} bytes, used by the first send only), the
 * NATS header block (`NATS/1.0\r\n...\r\n\r\n`) up to `headerEnd`, then the
 * payload up to `payloadEnd` followed by CR LF, unless the payload is
 * `large`, a separate array. The bytes are never changed once written, so a
 * retry sends the same message.
 */
export interface HeadedMessage {
  readonly target: PublishTarget;
  readonly slab: Uint8Array;
  readonly headerStart: number;
  readonly headerEnd: number;
  readonly payloadEnd: number;
  readonly large: Uint8Array | undefined;
}

/** A message without headers whose payload is text (UTF-8 on the wire). */
export interface TextMessage {
  readonly subject: string;
  /** Reply subject, or `""` for none. */
  readonly reply: string;
  readonly payload: string;
}

/**
 * Everything Chronicle's producer, consumer groups, idempotency store and
 * dead-letter publisher do with NATS below nats.js's request and JetStream
 * APIs: the hot path of sending and reading messages. Two implementations
 * ({@link WireKind}) behave the same, operation by operation (the wire's
 * contract test runs every operation against both); one is faster, the
 * other uses nats.js's public API only. Get a connection's with `wireOf`.
 *
 * Errors are nats.js's, as `nc.publish` throws them (closed, draining,
 * `max_payload` exceeded): callers translate them.
 */
export interface Wire {
  readonly kind: WireKind;

  /** Opens a {@link ReplyInbox} under the connection's inbox prefix. */
  openInbox(handler: InboxHandler): ReplyInbox;

  /** Prepares `subject` (valid: no white space) for {@link publishHeaded}; keep it for repeated publishes. */
  target(subject: string): PublishTarget;

  /** Bytes {@link publishHeaded} may write before a message's header block on its first send; 0 when it writes none. */
  headRoom(target: PublishTarget, inbox: ReplyInbox): number;

  /**
   * Publishes a {@link HeadedMessage} with the reply subject `<inbox>.<token>`.
   * `first` says the room before the header block is still free (a first
   * send); a resend passes false. Throws as `nc.publish` does.
   */
  publishHeaded(message: HeadedMessage, inbox: ReplyInbox, token: number, first: boolean): void;

  /**
   * Publishes messages without headers, together (one socket write where
   * the implementation can). A message that cannot be sent is reported to
   * `failed` with nats.js's error; the others are sent.
   */
  publishText(messages: readonly TextMessage[], failed: (index: number, error: unknown) => void): void;

  /**
   * The headers of a received message (first value of each name, names as
   * sent), read lazily from its header block's text where the
   * implementation can, without nats.js decoding every header.
   */
  headers(msg: Msg): HeaderText;
}
