import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { layout } from "../layout/subjects.js";
import { Headers } from "../layout/headers.js";
import { DeadLetterHeaders, type DeadLetterReason } from "./headers.js";

/** Everything a dead letter records about its origin. @private */
export interface DeadLetterInput {
  stream: string;
  subject: string;
  sequence: number;
  partition: number;
  eventName: string;
  keyToken: string;
  group: string;
  attempts: number;
  error: string;
  reason: DeadLetterReason;
  firstFailure: Date;
  lastFailure: Date;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** Dedup key of the dead letter: the same failure published twice is stored once. */
  dedupKey: string;
}

/**
 * Publishes a dead letter to `S_dlq.<group>.<partition>.<EventName>.<keyToken>`
 * and waits for the server's acknowledgement: the original payload, its
 * headers (minus `Nats-*` ones; `Nats-Msg-Id` is kept as `chronicle-dlq-msg-id`) and the
 * {@link DeadLetterHeaders}. Throws `unavailable` when it could not be stored;
 * the caller must then not terminate the original.
 * @private
 */
export async function publishDeadLetter(conn: ChronicleConnection, d: DeadLetterInput): Promise<number> {
  const h = natsHeaders();
  if (d.headers) {
    for (const k of d.headers.keys()) {
      if (k.startsWith("Nats-") || k.startsWith("chronicle-dlq-")) continue;
      for (const v of d.headers.values(k)) h.append(k, v);
    }
    const msgId = d.headers.get(Headers.MsgId);
    if (msgId) h.set(DeadLetterHeaders.MsgId, msgId);
  }
  h.set(DeadLetterHeaders.Stream, d.stream);
  h.set(DeadLetterHeaders.Subject, d.subject);
  h.set(DeadLetterHeaders.Sequence, String(d.sequence));
  h.set(DeadLetterHeaders.Partition, String(d.partition));
  h.set(DeadLetterHeaders.Group, d.group);
  h.set(DeadLetterHeaders.Attempts, String(d.attempts));
  h.set(DeadLetterHeaders.Error, oneLine(d.error));
  h.set(DeadLetterHeaders.Reason, d.reason);
  h.set(DeadLetterHeaders.FirstFailure, d.firstFailure.toISOString());
  h.set(DeadLetterHeaders.LastFailure, d.lastFailure.toISOString());
  const subject = layout.dlqSubject(d.stream, d.group, d.partition, d.eventName, d.keyToken);
  try {
    const ack = await conn.js.publish(subject, d.data, { headers: h, msgID: d.dedupKey });
    return ack.seq;
  } catch (err) {
    throw new ChronicleError(
      ErrorCode.Unavailable,
      `cannot store dead letter of ${d.stream}#${d.sequence} in ${layout.dlqStream(d.stream)}: ${(err as Error).message}`,
      {
        cause: err,
        context: { stream: d.stream, sequence: d.sequence, group: d.group, subject },
      },
    );
  }
}

/** Header values cannot hold line breaks; errors often do. */
function oneLine(s: string): string {
  const flat = s.replace(/[\r\n]+/g, " | ");
  return flat.length > 2000 ? `${flat.slice(0, 2000)}...` : flat;
}
