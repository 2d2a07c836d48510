/**
 * Stable error codes of Chronicle's public surface. Each code is part of the
 * API: tools may branch on it, so a code is never renamed or reused.
 */
export const ErrorCode = {
  /** A caller passed a value that is not accepted (see the message and `context`). */
  InvalidArgument: "invalid_argument",
  /** The stream, consumer, subject or version asked for does not exist. */
  NotFound: "not_found",
  /** The thing to create exists with other settings. */
  AlreadyExists: "already_exists",
  /** An expected-last-sequence check failed: someone else wrote first. */
  WrongLastSequence: "wrong_last_sequence",
  /** The message is larger than the server's `max_payload`. */
  PayloadTooLarge: "payload_too_large",
  /** Nobody answered the request: no server, no stream for the subject. */
  NoResponders: "no_responders",
  /** The operation did not complete in time; it may or may not have taken effect. */
  Timeout: "timeout",
  /** The client, producer or consumer was closed before the operation completed. */
  Closed: "closed",
  /** The server or a dependency is not reachable now; retrying later may help. */
  Unavailable: "unavailable",
  /** The credentials do not allow the operation. */
  PermissionDenied: "permission_denied",
  /** A change is refused because it would remap keys or lose data. */
  FailedPrecondition: "failed_precondition",
  /** Bytes could not be decoded as the event type they claim to be. */
  DecodeFailed: "decode_failed",
  /** No usable `nats-server` binary could be found or installed. */
  ServerNotFound: "server_not_found",
  /** A local `nats-server` did not start or did not become ready. */
  ServerStartFailed: "server_start_failed",
  /** A bug or an unexpected answer; the message says what was seen. */
  Internal: "internal",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Context fields that locate an error: which stream, subject, sequence,
 * consumer group or schema element it is about. Only the fields that apply
 * are set.
 */
export interface ErrorContext {
  stream?: string;
  subject?: string;
  sequence?: number;
  group?: string;
  partition?: number;
  key?: string;
  eventType?: string;
  option?: string;
  path?: string;
  [field: string]: string | number | boolean | undefined;
}

const brand = Symbol.for("@chronicle/ChronicleError");

/**
 * The one error class of Chronicle's public surface. `code` is stable and
 * closed ({@link ErrorCode}); `context` says where; `cause` keeps the foreign
 * error (a NATS or system error) that was translated into this one.
 *
 * `instanceof ChronicleError` works across duplicated copies of the package.
 */
export class ChronicleError extends Error {
  override name = "ChronicleError";
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Where the error happened: stream, subject, sequence, group, ... */
  readonly context: ErrorContext;
  /** Marks the error as belonging to Chronicle, across package copies. @private */
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options: { context?: ErrorContext; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options.context ?? {};
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/** True when `err` is a {@link ChronicleError}, optionally with the given code. */
export function isChronicleError(err: unknown, code?: ErrorCode): err is ChronicleError {
  return err instanceof ChronicleError && (code === undefined || err.code === code);
}
