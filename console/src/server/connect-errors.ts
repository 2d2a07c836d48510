import { Code, ConnectError } from "@connectrpc/connect";
import { isChronicleError } from "@chronicle/runtime";

const CODES: Record<string, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  wrong_last_sequence: Code.FailedPrecondition,
  payload_too_large: Code.InvalidArgument,
  no_responders: Code.Unavailable,
  timeout: Code.DeadlineExceeded,
  closed: Code.Unavailable,
  unavailable: Code.Unavailable,
  permission_denied: Code.PermissionDenied,
  failed_precondition: Code.FailedPrecondition,
  decode_failed: Code.InvalidArgument,
};

/**
 * Translates any failure into the `ConnectError` the console answers with:
 * a `ConnectError` passes through (the registry's own codes and details
 * included), a `ChronicleError` keeps its meaning (`not_found` stays
 * NotFound, `unavailable` Unavailable), and anything else is Internal with
 * its message. `what` prefixes the message ("listing streams: ...").
 */
export function toConnectError(err: unknown, what?: string): ConnectError {
  if (err instanceof ConnectError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const text = what ? `${what}: ${message}` : message;
  if (isChronicleError(err)) return new ConnectError(text, CODES[err.code] ?? Code.Internal, undefined, undefined, err);
  // nats.js's own errors when the connection is down
  if (/CONNECTION_CLOSED|DISCONNECT|closed connection|TIMEOUT|timeout|no responders/i.test(message)) {
    return new ConnectError(text, /timeout/i.test(message) ? Code.DeadlineExceeded : Code.Unavailable, undefined, undefined, err);
  }
  if (/stream not found|consumer not found|no message found|not found/i.test(message)) return new ConnectError(text, Code.NotFound, undefined, undefined, err);
  return new ConnectError(text, Code.Internal, undefined, undefined, err);
}

/** An `invalid_argument` ConnectError naming the field that was wrong. */
export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** Runs `fn`, translating its failure with {@link toConnectError}. */
export async function translated<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConnectError(err, what);
  }
}
