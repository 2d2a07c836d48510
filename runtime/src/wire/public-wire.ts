import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { HeaderText } from "./header-text.js";
import { tokenFromSubject, WildcardInbox } from "./inbox.js";
import type { HeadedMessage, InboxHandler, PublishTarget, ReplyInbox, TextMessage, Wire } from "./types.js";

const decoder = new TextDecoder();

/** The header block's lines as nats.js headers: every value of every name, names as written. */
function headersOfBlock(block: Uint8Array): MsgHdrs {
  const h = natsHeaders();
  const text = decoder.decode(block);
  let at = text.indexOf("\r\n");
  while (at >= 0) {
    const start = at + 2;
    const end = text.indexOf("\r\n", start);
    if (end <= start) break; // the blank line that ends the block
    const colon = text.indexOf(":", start);
    if (colon > start && colon < end) h.append(text.slice(start, colon), text.slice(colon + 1, end).trim());
    at = end;
  }
  return h;
}

/** The first value of each header of a message, names as sent. */
function firstValues(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h) for (const name of h.keys()) out[name] = h.get(name);
  return out;
}

/**
 * The {@link Wire} made of nats.js's public API alone: `nc.publish` with
 * `MsgHdrs`, `msg.subject`, `msg.headers`.
 */
export class PublicWire implements Wire {
  readonly kind = "public" as const;

  constructor(
    private readonly nc: NatsConnection,
    private readonly inboxPrefix: string | undefined,
  ) {}

  openInbox(handler: InboxHandler): ReplyInbox {
    return new WildcardInbox(this.nc, this.inboxPrefix, handler, tokenFromSubject);
  }

  target(subject: string): PublishTarget {
    return { subject };
  }

  headRoom(): number {
    return 0;
  }

  publishHeaded(message: HeadedMessage, inbox: ReplyInbox, token: number): void {
    const payload = message.large ?? message.slab.subarray(message.headerEnd, message.payloadEnd);
    this.nc.publish(message.target.subject, payload, {
      reply: `${inbox.subject}.${token}`,
      headers: headersOfBlock(message.slab.subarray(message.headerStart, message.headerEnd)),
    });
  }

  publishText(messages: readonly TextMessage[], failed: (index: number, error: unknown) => void): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      try {
        this.nc.publish(m.subject, m.payload, m.reply ? { reply: m.reply } : undefined);
      } catch (err) {
        failed(i, err);
      }
    }
  }

  headers(msg: Msg): HeaderText {
    return HeaderText.of(firstValues(msg.headers));
  }
}
