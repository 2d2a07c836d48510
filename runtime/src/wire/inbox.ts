import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { InboxHandler, ReplyInbox } from "./types.js";

/** A reply's token, the decimal number after `skip` characters of its subject; -1 when it is not one. */
export type TokenReader = (msg: Msg, skip: number) => number;

/** Reads the token from `msg.subject` (nats.js decodes the subject for it). */
export function tokenFromSubject(msg: Msg, skip: number): number {
  const subject = msg.subject;
  if (subject.length <= skip) return -1;
  let token = 0;
  for (let i = skip; i < subject.length; i++) {
    const digit = subject.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    token = token * 10 + digit;
  }
  return token;
}

/** The token in a subject's bytes, after `skip` of them; -1 when it is not one. */
export function tokenFromBytes(subject: Uint8Array, skip: number): number {
  if (subject.length <= skip) return -1;
  let token = 0;
  for (let i = skip; i < subject.length; i++) {
    const digit = subject[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    token = token * 10 + digit;
  }
  return token;
}

/** A {@link ReplyInbox}: one subscription to `<inbox>.*`, answers dispatched by token. */
export class WildcardInbox implements ReplyInbox {
  readonly subject: string;
  private readonly sub: Subscription;

  constructor(nc: NatsConnection, prefix: string | undefined, handler: InboxHandler, readToken: TokenReader) {
    this.subject = createInbox(prefix);
    const skip = this.subject.length + 1;
    this.sub = nc.subscribe(`${this.subject}.*`, {
      callback: (err, msg) => {
        if (err) handler.error(err);
        else {
          const token = readToken(msg, skip);
          if (token >= 0) handler.reply(token, msg);
        }
      },
    });
  }

  close(): void {
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }
}
