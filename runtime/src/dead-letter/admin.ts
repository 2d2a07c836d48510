import { headers as natsHeaders } from "@nats-io/transport-node";
import type { StoredMsg } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { Headers, readPartitionKey } from "../layout/headers.js";
import { keyFromToken } from "../layout/key-token.js";
import { layout } from "../layout/subjects.js";
import { redriveSubject } from "../groups/names.js";
import { DeadLetterHeaders } from "./headers.js";

/** One dead letter as stored in `S_dlq`. */
export interface DeadLetter {
  /** Sequence in the dead-letter stream: what `show`, `redrive` take. */
  dlqSequence: number;
  subject: string;
  group: string;
  partition: number;
  eventName: string;
  /** The event's key (from `ce-partitionkey`, else from the subject token). */
  key: string;
  /** Stream, subject and sequence of the original event. */
  origin: { stream: string; subject: string; sequence: number };
  attempts: number;
  reason: string;
  error: string;
  firstFailure: string;
  lastFailure: string;
  /** Every header of the dead letter: the original event's and the `chronicle-dlq-*` ones. */
  headers: Record<string, string>;
  /** The original payload. */
  data: Uint8Array;
}

function toDeadLetter(m: StoredMsg): DeadLetter | undefined {
  const parts = m.subject.split(".");
  if (parts.length !== 5 || !/^\d+$/.test(parts[2]!)) return undefined;
  const headers: Record<string, string> = {};
  for (const k of m.header.keys()) headers[k] = m.header.get(k);
  const h = (name: string) => headers[name] ?? "";
  return {
    dlqSequence: m.seq,
    subject: m.subject,
    group: parts[1]!,
    partition: Number(parts[2]),
    eventName: parts[3]!,
    key: readPartitionKey(headers) ?? keyFromToken(parts[4]!) ?? parts[4]!,
    origin: { stream: h(DeadLetterHeaders.Stream), subject: h(DeadLetterHeaders.Subject), sequence: Number(h(DeadLetterHeaders.Sequence)) },
    attempts: Number(h(DeadLetterHeaders.Attempts)),
    reason: h(DeadLetterHeaders.Reason),
    error: h(DeadLetterHeaders.Error),
    firstFailure: h(DeadLetterHeaders.FirstFailure),
    lastFailure: h(DeadLetterHeaders.LastFailure),
    headers,
    data: m.data,
  };
}

async function dlqInfo(conn: ChronicleConnection, stream: string) {
  const dlq = layout.dlqStream(stream);
  try {
    return await conn.jsm.streams.info(dlq);
  } catch (err) {
    throw new ChronicleError(ErrorCode.NotFound, `dead-letter stream ${dlq} does not exist`, { cause: err, context: { stream } });
  }
}

/**
 * Lists the dead letters of a stream (optionally of one group), oldest
 * first, at most `limit` (default 1000). Redrive requests waiting to be
 * handled are not dead letters and are not listed.
 */
export async function listDeadLetters(conn: ChronicleConnection, stream: string, options: { group?: string; limit?: number } = {}): Promise<DeadLetter[]> {
  const info = await dlqInfo(conn, stream);
  const limit = options.limit ?? 1000;
  const out: DeadLetter[] = [];
  if (info.state.messages === 0) return out;
  const dlq = layout.dlqStream(stream);
  // Sequential reads: dead-letter streams are small, and this needs no consumer.
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
    const m = await conn.jsm.streams.getMessage(dlq, { seq }).catch(() => null);
    if (!m) continue;
    const letter = toDeadLetter(m);
    if (letter && (options.group === undefined || letter.group === options.group)) out.push(letter);
  }
  return out;
}

/** Reads one dead letter by its sequence in `S_dlq`; `not_found` when absent. */
export async function getDeadLetter(conn: ChronicleConnection, stream: string, dlqSequence: number): Promise<DeadLetter> {
  const dlq = layout.dlqStream(stream);
  const m = await conn.jsm.streams.getMessage(dlq, { seq: dlqSequence }).catch(() => null);
  const letter = m ? toDeadLetter(m) : undefined;
  if (!letter) throw new ChronicleError(ErrorCode.NotFound, `no dead letter #${dlqSequence} in ${dlq}`, { context: { stream, sequence: dlqSequence } });
  return letter;
}

/**
 * Sends a dead letter back to its group, and only to it: the event is
 * published to `S_dlq.<group>.redrive.<EventName>.<keyToken>`, which only
 * that group's redrive consumer reads (other groups of the stream, which
 * handled the event already, never see it), then the dead letter is deleted.
 * The group handles it like any event (idempotency store, retries, dead
 * letter again if it still fails), with the original's stream, sequence and
 * partition in its context. A redrive is published with a dedup key, so
 * redriving the same dead letter twice within the duplicate window
 * publishes once. Returns the redrive request's sequence.
 */
export async function redriveDeadLetter(conn: ChronicleConnection, stream: string, dlqSequence: number): Promise<number> {
  const letter = await getDeadLetter(conn, stream, dlqSequence);
  const h = natsHeaders();
  for (const [k, v] of Object.entries(letter.headers)) h.set(k, v);
  h.set(DeadLetterHeaders.RedriveOf, String(dlqSequence));
  const token = letter.subject.split(".")[4]!;
  const ack = await conn.js.publish(redriveSubject(stream, letter.group, letter.eventName, token), letter.data, {
    headers: h,
    msgID: `redrive:${dlqSequence}`,
  });
  await conn.jsm.streams.deleteMessage(layout.dlqStream(stream), dlqSequence, false);
  return ack.seq;
}

/** Deletes dead letters of a stream: all, or those of one group. Returns how many. */
export async function purgeDeadLetters(conn: ChronicleConnection, stream: string, options: { group?: string } = {}): Promise<number> {
  await dlqInfo(conn, stream);
  const dlq = layout.dlqStream(stream);
  const filter = options.group ? `${dlq}.${options.group}.*.*.*` : undefined;
  // Redrive requests (`<group>.redrive.>`) are kept: they are work in progress, not dead letters.
  let purged = 0;
  for (const d of await listDeadLetters(conn, stream, { limit: Number.MAX_SAFE_INTEGER, ...(options.group ? { group: options.group } : {}) })) {
    if (filter && !d.subject.startsWith(`${dlq}.${options.group}.`)) continue;
    if (await conn.jsm.streams.deleteMessage(dlq, d.dlqSequence, false).catch(() => false)) purged++;
  }
  return purged;
}
