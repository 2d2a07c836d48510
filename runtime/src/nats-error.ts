import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import {
  AuthorizationError,
  ClosedConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from "@nats-io/transport-node";
import { ChronicleError, ErrorCode, type ErrorContext } from "./errors.js";

/** JetStream API error codes (`err_code`) Chronicle translates that nats.js's `JetStreamApiCodes` does not name. */
const MoreJetStreamApiCodes = {
  ClusterNotAvailable: 10008,
  InsufficientResources: 10023,
  MessageTooLarge: 10054,
  /** A publish whose `Nats-Msg-Id` the leader has proposed and not yet applied: its outcome is not known yet. */
  DuplicateMessageInProcess: 10158,
} as const;

/** The HTTP-like status codes of JetStream API errors and status messages. */
const Status = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  RequestTimeout: 408,
  NoResponders: 503,
} as const;

/** Maps a JetStream `err_code` (and its HTTP-like status `code`) to a Chronicle error code. */
export function codeForJsError(errCode: number | undefined, status: number | undefined): ErrorCode {
  switch (errCode) {
    case JetStreamApiCodes.StreamNotFound:
    case JetStreamApiCodes.ConsumerNotFound:
    case JetStreamApiCodes.NoMessageFound:
      return ErrorCode.NotFound;
    case JetStreamApiCodes.StreamWrongLastSequence:
    case JetStreamApiCodes.StreamWrongLastSequenceUnknown:
      return ErrorCode.WrongLastSequence;
    case MoreJetStreamApiCodes.MessageTooLarge:
      return ErrorCode.PayloadTooLarge;
    case JetStreamApiCodes.JetStreamNotEnabledForAccount:
    case MoreJetStreamApiCodes.ClusterNotAvailable:
    case MoreJetStreamApiCodes.InsufficientResources:
    case MoreJetStreamApiCodes.DuplicateMessageInProcess:
      return ErrorCode.Unavailable;
    default:
      break;
  }
  switch (status) {
    case Status.NotFound:
      return ErrorCode.NotFound;
    case Status.NoResponders:
      return ErrorCode.Unavailable;
    case Status.RequestTimeout:
      return ErrorCode.Timeout;
    case Status.Unauthorized:
    case Status.Forbidden:
      return ErrorCode.PermissionDenied;
    case Status.BadRequest:
      return ErrorCode.InvalidArgument;
    default:
      return ErrorCode.Internal;
  }
}

/** `err` and its causes, outermost first (nats.js wraps a request's reason in a `RequestError`, a missing JetStream in an error whose cause says why). */
function* causes(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** The Chronicle code for one of nats.js's typed errors, or undefined for any other error. */
function codeOfTyped(e: unknown): ErrorCode | undefined {
  if (e instanceof NoRespondersError) return ErrorCode.NoResponders;
  if (e instanceof TimeoutError) return ErrorCode.Timeout;
  if (e instanceof ClosedConnectionError || e instanceof DrainingConnectionError) return ErrorCode.Closed;
  if (e instanceof PermissionViolationError || e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError)
    return ErrorCode.PermissionDenied;
  return undefined;
}

/**
 * True when `err` says the server has no JetStream (nobody answers its API,
 * or the account has it disabled).
 */
export function isJetStreamMissing(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e instanceof NoRespondersError) return true;
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.JetStreamNotEnabledForAccount) return true;
  }
  return false;
}

/**
 * Translates an error thrown by nats.js into a {@link ChronicleError} by its
 * type: a JetStream API error by its `err_code`, then the typed errors in
 * its causes (no responders, timeout, closed or draining connection,
 * permissions); a request that failed otherwise is `unavailable`, anything
 * else `internal`. A ChronicleError passes through unchanged.
 */
export function translateNatsError(err: unknown, what: string, context: ErrorContext = {}): ChronicleError {
  if (err instanceof ChronicleError) return err;
  const message = err instanceof Error ? err.message : String(err);
  for (const e of causes(err)) {
    if (e instanceof JetStreamApiError) {
      const api = e.apiError();
      return new ChronicleError(codeForJsError(api.err_code, api.code), `${what}: ${api.description ?? message}`, {
        context: { ...context, ...(api.err_code !== undefined ? { natsErrCode: api.err_code } : {}) },
        cause: err,
      });
    }
  }
  let code: ErrorCode | undefined;
  for (const e of causes(err)) if ((code = codeOfTyped(e)) !== undefined) break;
  code ??= err instanceof RequestError ? ErrorCode.Unavailable : ErrorCode.Internal;
  return new ChronicleError(code, `${what}: ${message}`, { context, cause: err });
}
