import { ChronicleError, ErrorCode, type ErrorContext } from "./errors.js";

/** JetStream API error codes (`err_code`) that Chronicle translates. @private */
export const JsErrCode = {
  StreamNotFound: 10059,
  StreamWrongLastSequence: 10071,
  StreamWrongLastSequenceUnknown: 10164,
  MessageTooLarge: 10054,
  InsufficientResources: 10023,
  ReplicasNotSupported: 10074,
  ClusterNotAvailable: 10008,
  /** A publish whose `Nats-Msg-Id` the leader has proposed and not yet applied: its outcome is not known yet. */
  DuplicateMessageInProcess: 10158,
  NoMessageFound: 10037,
} as const;

/** Maps a JetStream `err_code` (and HTTP-like `code`) to a Chronicle error code. @private */
export function codeForJsError(errCode: number | undefined, code: number | undefined): ErrorCode {
  switch (errCode) {
    case JsErrCode.StreamNotFound:
    case JsErrCode.NoMessageFound:
      return ErrorCode.NotFound;
    case JsErrCode.StreamWrongLastSequence:
    case JsErrCode.StreamWrongLastSequenceUnknown:
      return ErrorCode.WrongLastSequence;
    case JsErrCode.MessageTooLarge:
      return ErrorCode.PayloadTooLarge;
    case JsErrCode.ClusterNotAvailable:
    case JsErrCode.InsufficientResources:
    case JsErrCode.DuplicateMessageInProcess:
      return ErrorCode.Unavailable;
    default:
      break;
  }
  if (code === 404) return ErrorCode.NotFound;
  if (code === 503) return ErrorCode.Unavailable;
  if (code === 408) return ErrorCode.Timeout;
  if (code === 401 || code === 403) return ErrorCode.PermissionDenied;
  if (code === 400) return ErrorCode.InvalidArgument;
  return ErrorCode.Internal;
}

/**
 * Translates an error thrown by nats.js (API error, timeout, no responders,
 * closed connection) into a {@link ChronicleError}; a ChronicleError passes
 * through unchanged. @private
 */
export function translateNatsError(err: unknown, what: string, context: ErrorContext = {}): ChronicleError {
  if (err instanceof ChronicleError) return err;
  const e = err as { name?: string; message?: string; code?: unknown; apiError?: () => { code?: number; err_code?: number; description?: string } };
  const message = e?.message ?? String(err);
  if (typeof e?.apiError === "function") {
    const api = e.apiError();
    return new ChronicleError(codeForJsError(api.err_code, api.code), `${what}: ${api.description ?? message}`, {
      context: { ...context, ...(api.err_code !== undefined ? { natsErrCode: api.err_code } : {}) },
      cause: err,
    });
  }
  const name = e?.name ?? "";
  let code: ErrorCode = ErrorCode.Internal;
  if (/NoResponders/i.test(name) || /no responders/i.test(message)) code = ErrorCode.NoResponders;
  else if (/Timeout/i.test(name) || /timeout/i.test(message)) code = ErrorCode.Timeout;
  else if (/Closed|Draining/i.test(name) || /closed|draining/i.test(message)) code = ErrorCode.Closed;
  else if (/Permission|Authorization/i.test(name) || /permissions violation|authorization violation/i.test(message)) code = ErrorCode.PermissionDenied;
  else if (/max_payload/i.test(message)) code = ErrorCode.PayloadTooLarge;
  else if (/stream not found/i.test(message)) code = ErrorCode.NotFound;
  return new ChronicleError(code, `${what}: ${message}`, { context, cause: err });
}
