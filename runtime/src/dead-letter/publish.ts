import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { Headers } from "../layout/headers.js";
import { layout } from "../layout/subjects.js";
import { PublishTelemetry } from "../telemetry/publish-telemetry.js";
import { extractTraceContext } from "../telemetry/trace-context.js";
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

/** The telemetry of each dead-letter stream, made on its first dead letter. */
const telemetryByStream = new Map<string, PublishTelemetry>();

function telemetryOf(dlqStream: string): PublishTelemetry {
  let t = telemetryByStream.get(dlqStream);
  if (t === undefined) telemetryByStream.set(dlqStream, (t = new PublishTelemetry(dlqStream, true)));
  return t;
}

/** The headers of a dead letter: the original's (but `Nats-*` and earlier `chronicle-dlq-*` ones), then where it came from and why. */
function deadLetterHeaders(deadLetter: DeadLetterInput): MsgHdrs {
  const h = natsHeaders();
  const original = deadLetter.headers;
  if (original) {
    for (const k of original.keys()) {
      if (k.startsWith("Nats-") || k.startsWith("chronicle-dlq-")) continue;
      for (const v of original.values(k)) h.append(k, v);
    }
    const msgId = original.get(Headers.MsgId);
    if (msgId) h.set(DeadLetterHeaders.MsgId, msgId);
  }
  h.set(DeadLetterHeaders.Stream, deadLetter.stream);
  h.set(DeadLetterHeaders.Subject, deadLetter.subject);
  h.set(DeadLetterHeaders.Sequence, String(deadLetter.sequence));
  h.set(DeadLetterHeaders.Partition, String(deadLetter.partition));
  h.set(DeadLetterHeaders.Group, deadLetter.group);
  h.set(DeadLetterHeaders.Attempts, String(deadLetter.attempts));
  h.set(DeadLetterHeaders.Error, oneLine(deadLetter.error));
  h.set(DeadLetterHeaders.Reason, deadLetter.reason);
  h.set(DeadLetterHeaders.FirstFailure, deadLetter.firstFailure.toISOString());
  h.set(DeadLetterHeaders.LastFailure, deadLetter.lastFailure.toISOString());
  return h;
}

/** The trace context the original event carried, to link the dead letter's span to. */
function originalTraceContext(original: MsgHdrs | undefined): unknown {
  const traceparent = original?.get(Headers.TraceParent);
  if (!traceparent) return undefined;
  const tracestate = original!.get(Headers.TraceState);
  return extractTraceContext({ [Headers.TraceParent]: traceparent, ...(tracestate ? { [Headers.TraceState]: tracestate } : {}) });
}

/**
 * Publishes a dead letter to `S_dlq.<group>.<partition>.<EventName>.<keyToken>`
 * and waits for the server's acknowledgement: the original payload, its
 * headers (minus `Nats-*` ones; `Nats-Msg-Id` is kept as `chronicle-dlq-msg-id`) and the
 * {@link DeadLetterHeaders}. Throws `unavailable` when it could not be stored;
 * the caller must then not terminate the original. With OpenTelemetry, the
 * publish is a `publish S_dlq` span linked to the original event's trace,
 * and the dead letter carries its context.
 * @private
 */
export async function publishDeadLetter(conn: ChronicleConnection, deadLetter: DeadLetterInput): Promise<number> {
  const dlqStream = layout.dlqStream(deadLetter.stream);
  const subject = layout.dlqSubject(deadLetter.stream, deadLetter.group, deadLetter.partition, deadLetter.eventName, deadLetter.keyToken);
  const h = deadLetterHeaders(deadLetter);
  const telemetry = telemetryOf(dlqStream);
  const id = h.get(Headers.Id) || deadLetter.dedupKey;
  const span = telemetry.start({ type: h.get(Headers.Type), partition: deadLetter.partition, id }, [originalTraceContext(deadLetter.headers)]);
  const trace = telemetry.traceHeaders(span);
  if (trace) for (const [k, v] of Object.entries(trace)) h.set(k, v);
  const startedAt = performance.now();
  try {
    const ack = await conn.js.publish(subject, deadLetter.data, { headers: h, msgID: deadLetter.dedupKey });
    telemetry.succeeded(span, startedAt, deadLetter.data.length);
    return ack.seq;
  } catch (err) {
    const error = new ChronicleError(
      ErrorCode.Unavailable,
      `cannot store dead letter of ${deadLetter.stream}#${deadLetter.sequence} in ${dlqStream}: ${(err as Error).message}`,
      {
        cause: err,
        context: { stream: deadLetter.stream, sequence: deadLetter.sequence, group: deadLetter.group, subject },
      },
    );
    telemetry.failed(span, startedAt, error);
    throw error;
  }
}

/** Header values cannot hold line breaks; errors often do. */
function oneLine(s: string): string {
  const flat = s.replace(/[\r\n]+/g, " | ");
  return flat.length > 2000 ? `${flat.slice(0, 2000)}...` : flat;
}
