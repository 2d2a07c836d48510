/**
 * Headers Chronicle adds to a dead letter, beside the original event's own
 * headers (all copied, except `Nats-Msg-Id`, kept as `chronicle-dlq-msg-id`).
 * Times are RFC 3339.
 */
export const DeadLetterHeaders = {
  /** Stream the event came from. */
  Stream: "chronicle-dlq-stream",
  /** Subject the event was stored under. */
  Subject: "chronicle-dlq-subject",
  /** Its stream sequence. */
  Sequence: "chronicle-dlq-sequence",
  /** Partition it was read from. */
  Partition: "chronicle-dlq-partition",
  /** Consumer group that gave up on it. */
  Group: "chronicle-dlq-group",
  /** Number of delivery attempts made. */
  Attempts: "chronicle-dlq-attempts",
  /** Message of the last error. */
  Error: "chronicle-dlq-error",
  /** `decode_failed`, `non_retryable` or `attempts_exhausted`. */
  Reason: "chronicle-dlq-reason",
  /** Time of the first failed attempt this member saw. */
  FirstFailure: "chronicle-dlq-first-failure",
  /** Time of the last failed attempt. */
  LastFailure: "chronicle-dlq-last-failure",
  /** The original `Nats-Msg-Id`. */
  MsgId: "chronicle-dlq-msg-id",
  /** On a redrive request: the dead-letter stream sequence it redrives. */
  RedriveOf: "chronicle-redrive-of",
} as const;

/** Why an event was dead-lettered. */
export type DeadLetterReason = "decode_failed" | "non_retryable" | "attempts_exhausted";
