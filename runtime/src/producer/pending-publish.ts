import type { Span } from "@opentelemetry/api";
import type { HeadedMessage, PublishTarget } from "../wire/types.js";
import type { KeyInfo } from "./event-types.js";
import type { PublishResult } from "./types.js";

/**
 * A time on the monotonic clock (`performance.now()`, ms), one object
 * shared by the publishes sent together: a number in a field of each would
 * be a heap number of its own. Monotonic because it times ack and publish
 * timeouts: a wall clock stepped back would hold retries back by the size
 * of the step, one stepped forward would fail every publish in flight.
 */
export interface SendTime {
  readonly at: number;
}

/** The send time of a publish not sent yet. */
export const NOT_SENT: SendTime = Object.freeze({ at: 0 });
/** The retry time of a publish waiting for the answer to "does the stream exist?": never due by time. */
export const AWAITING_STREAM_CHECK: SendTime = Object.freeze({ at: Infinity });

const noop = () => undefined;

/**
 * One publish, from its call until it settles: its header block and event,
 * written once (a retry sends the same bytes), and where it stands.
 *
 * Thousands are in flight at once and live until their acks: every object a
 * publish keeps is one the garbage collector copies or marks, which cost
 * more than anything else the producer does per event. So the bytes are
 * positions in a slab the producer's `HeaderBlockWriter` shares between
 * publishes, times are shared {@link SendTime}s, and the reject function of
 * the caller's promise is not kept (a failure resolves it with a rejected
 * promise).
 */
export class PendingPublish implements HeadedMessage {
  /** Reply token of the latest attempt (0: not sent yet). */
  token = 0;
  attempts = 0;
  /** When the latest attempt was sent. */
  sent: SendTime = NOT_SENT;
  /** When the first attempt was sent: the publish timeout counts from it. */
  first: SendTime = NOT_SENT;
  /** When set, waiting (out of the acks awaited) to be sent again at this time. */
  retryAt: SendTime | undefined = undefined;
  /** Settles the caller's promise: with a result, or with a rejected promise for a failure. */
  settle: (result: PublishResult | PromiseLike<never>) => void = noop;

  constructor(
    readonly key: KeyInfo,
    /**
     * Room for the first frame head before `headerStart`, the header block
     * up to `headerEnd`, then (unless {@link large}) the event up to
     * `payloadEnd` and CR LF.
     */
    readonly slab: Uint8Array,
    readonly headerStart: number,
    readonly headerEnd: number,
    readonly payloadEnd: number,
    /** The encoded event when it is too large to be copied into the slab. */
    readonly large: Uint8Array | undefined,
    readonly dedupKey: string,
    readonly id: string,
    /** The publish span, when OpenTelemetry records one. */
    readonly span: Span | undefined,
  ) {}

  get target(): PublishTarget {
    return this.key.target;
  }

  get subject(): string {
    return this.key.target.subject;
  }

  get partition(): number {
    return this.key.partition;
  }

  /** Size of the encoded event. */
  get payloadSize(): number {
    return this.large?.length ?? this.payloadEnd - this.headerEnd;
  }

  /** Size of the message as the server counts it against `max_payload`: header block and event. */
  get messageSize(): number {
    return this.headerEnd - this.headerStart + this.payloadSize;
  }
}
