import type { Msg } from "@nats-io/transport-node";
import { ChronicleError, ErrorCode, type ErrorContext } from "../errors.js";
import { codeForJsError } from "../nats-error.js";

/** The status code of a reply nobody sent: no stream listens on the subject. */
const NO_RESPONDERS_STATUS = 503;
/** Status codes from this one up are server conditions worth retrying. */
const SERVER_ERROR_STATUS = 500;

/** What one reply to a publish said. */
export type AckOutcome =
  | { kind: "ok"; stream: string; seq: number; duplicate: boolean }
  /** 503 status: nobody listens on the subject (no stream, or JetStream not ready after a restart). */
  | { kind: "no-responders" }
  /** A JetStream error; `retryable` for transient server conditions. */
  | { kind: "error"; error: ChronicleError; retryable: boolean };

const decoder = new TextDecoder();

/** Parses a JetStream publish reply: a JSON PubAck, a JSON error or a status message. */
export function parseAck(msg: Msg, context: ErrorContext): AckOutcome {
  const h = msg.headers;
  if (h && h.code === NO_RESPONDERS_STATUS && msg.data.length === 0) return { kind: "no-responders" };
  if (h && h.hasError && msg.data.length === 0) {
    return {
      kind: "error",
      error: new ChronicleError(ErrorCode.Internal, `publish failed: ${h.code} ${h.description}`, { context }),
      retryable: h.code >= SERVER_ERROR_STATUS,
    };
  }
  let body: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
  try {
    body = JSON.parse(decoder.decode(msg.data)) as typeof body;
  } catch (err) {
    return { kind: "error", error: new ChronicleError(ErrorCode.Internal, "publish reply is not JSON", { context, cause: err }), retryable: false };
  }
  if (body.error) {
    const code = codeForJsError(body.error.err_code, body.error.code);
    const error = new ChronicleError(code, `publish to ${context.subject ?? "?"} refused: ${body.error.description ?? "unknown error"}`, {
      context: { ...context, ...(body.error.err_code !== undefined ? { natsErrCode: body.error.err_code } : {}) },
    });
    return { kind: "error", error, retryable: code === ErrorCode.Unavailable || code === ErrorCode.Timeout };
  }
  return { kind: "ok", stream: body.stream ?? "", seq: body.seq ?? 0, duplicate: body.duplicate === true };
}

const DUPLICATE_TAIL = Array.from(',"duplicate":true}', (c) => c.charCodeAt(0));

/**
 * The start of the PubAck the server sends for a message stored in `stream`:
 * `{"stream":"<stream>","seq":`, for {@link fastAckSequence}.
 */
export function pubAckPrefix(stream: string): Uint8Array {
  return new TextEncoder().encode(`{"stream":${JSON.stringify(stream)},"seq":`);
}

/**
 * Reads the common PubAck shapes, `{"stream":"S","seq":N}` and
 * `{"stream":"S","seq":N,"duplicate":true}`, straight from the bytes, without
 * decoding or JSON parsing: the sequence, negated for a duplicate. Returns 0
 * for anything else (another shape, an error, a status), which the caller
 * hands to {@link parseAck}.
 */
export function fastAckSequence(data: Uint8Array, prefix: Uint8Array): number {
  const n = data.length;
  const p = prefix.length;
  if (n < p + 2) return 0;
  for (let i = 0; i < p; i++) if (data[i] !== prefix[i]) return 0;
  let i = p;
  let seq = 0;
  for (; i < n && i - p < 16; i++) {
    const d = data[i]! - 48;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
  }
  if (i === p || seq === 0 || !Number.isSafeInteger(seq)) return 0;
  if (i === n - 1 && data[i] === 125) return seq; // }
  if (n - i !== DUPLICATE_TAIL.length) return 0;
  for (let j = 0; j < DUPLICATE_TAIL.length; j++) if (data[i + j] !== DUPLICATE_TAIL[j]) return 0;
  return -seq;
}
