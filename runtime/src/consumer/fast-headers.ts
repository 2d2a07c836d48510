import type { ConsumerMessages } from "@nats-io/jetstream";
import { DeliveryHeaders, headerText } from "./delivery-headers.js";

/** The parts of a nats.js 3.x core message (`MsgImpl`, not in its public types) this reads and sets. */
interface RawMsg {
  _rdata?: unknown;
  _msg?: { hdr?: unknown; reply?: unknown };
  _headers?: unknown;
  /** The header block's reader, set while nats.js dispatches the message. */
  chronicleHeaders?: DeliveryHeaders | undefined;
}

/** The parts of nats.js 3.x's `PullConsumerMessagesImpl` (what `consume()` returns) this wraps. */
interface RawMessages {
  sub?: { callback?: unknown };
}

/**
 * Stands in for nats.js's decoded headers while its pinned consumer reads
 * `Nats-Pin-Id` from a delivery, once: the read takes it out again, so that
 * anything else (the member's own code included) gets nats.js's full headers.
 */
class PinReader {
  constructor(
    private readonly msg: RawMsg,
    private readonly headers: DeliveryHeaders,
  ) {}
  get(name: string): string {
    this.msg._headers = undefined;
    return this.headers.get(name) ?? "";
  }
}

/**
 * Makes the deliveries of a pinned `consume()` cheap to read.
 *
 * nats.js's pinned consumer reads `Nats-Pin-Id` from every delivered message
 * (`m.headers.get(...)`), which decodes the whole header block into its
 * `MsgHdrs`: names canonicalised and searched again for every header, arrays
 * per name, a regular expression per value, about as much CPU and garbage
 * per event as the rest of the member's own work. This wraps the messages'
 * subscription callback (nats.js 3.x internals; when they do not have the
 * expected shape, nothing changes and `false` is returned): for a delivery,
 * the header block is decoded to text once, into a {@link DeliveryHeaders},
 * before nats.js sees the message; nats.js's pin check reads its pin from
 * that (once: after it, or once the callback returns, the message is as
 * nats.js made it, and `m.headers`, which dead-lettering copies, decodes in
 * full as usual), and {@link takeParsedHeaders} hands the reader to the
 * member while nats.js dispatches the message (synchronously, for a
 * callback consumer). Status
 * messages (heartbeats, pull request ends) carry no reply and pass through
 * untouched.
 * @private
 */
export function parseDeliveryHeadersOnce(messages: ConsumerMessages): boolean {
  const sub = (messages as unknown as RawMessages).sub;
  const inner = sub?.callback;
  if (!sub || typeof inner !== "function" || !Object.prototype.hasOwnProperty.call(sub, "callback")) return false;
  const next = inner as (err: unknown, msg: RawMsg) => void;
  sub.callback = (err: unknown, msg: RawMsg) => {
    const hdr = msg?._msg?.hdr;
    const raw = msg?._rdata;
    if (err || msg._headers !== undefined || typeof hdr !== "number" || hdr <= 0 || !(raw instanceof Uint8Array) || !msg._msg?.reply) {
      next(err, msg);
      return;
    }
    const headers = new DeliveryHeaders(headerText(raw, hdr));
    msg.chronicleHeaders = headers;
    msg._headers = new PinReader(msg, headers);
    try {
      next(err, msg);
    } finally {
      msg._headers = undefined;
      msg.chronicleHeaders = undefined;
    }
  };
  return true;
}

/** The headers {@link parseDeliveryHeadersOnce} read for the core message `msg`, while nats.js dispatches it. @private */
export function takeParsedHeaders(msg: unknown): DeliveryHeaders | undefined {
  return (msg as RawMsg | undefined)?.chronicleHeaders;
}
