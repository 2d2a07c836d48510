import { Headers } from "../layout/headers.js";
import type { Delivery } from "./read-delivery.js";
import type { EventContext } from "./types.js";

/**
 * The {@link EventContext} of one delivery. `time` and `headers` are read
 * from the message when first asked for (each handled event would otherwise
 * pay for a date parse and for every header, which few handlers read): they
 * are accessors, so a spread of the context (`{ ...ctx }`) does not copy
 * them; `JSON.stringify(ctx)` includes them.
 * @private
 */
export class HandlerContext implements EventContext {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly key: string;
  readonly idempotencyKey: string;
  readonly stream: string;
  readonly subject: string;
  readonly partition: number;
  readonly sequence: number;
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly #delivery: Delivery;
  #time: Date | undefined;

  constructor(delivery: Delivery, signal: AbortSignal) {
    const { origin } = delivery;
    this.id = delivery.id;
    this.type = delivery.def?.type ?? "";
    this.name = origin.eventName;
    this.key = delivery.key;
    this.idempotencyKey = delivery.idempotencyKey;
    this.stream = origin.stream;
    this.subject = origin.subject;
    this.partition = origin.partition;
    this.sequence = origin.sequence;
    this.attempt = delivery.attempt;
    this.signal = signal;
    this.#delivery = delivery;
  }

  /** Event time: `ce-time`, or when the server stored the event. */
  get time(): Date {
    if (this.#time === undefined) {
      const header = this.#delivery.headers.get(Headers.Time);
      this.#time = header ? new Date(header) : new Date(Math.floor(this.#delivery.info.timestampNanos / 1e6));
    }
    return this.#time;
  }

  /** All headers of the message (first value of each name). */
  get headers(): Record<string, string> {
    return this.#delivery.headers.all();
  }

  /** The context as plain data, `time` and `headers` included. */
  toJSON(): Omit<EventContext, "signal"> {
    const { signal: _signal, ...fields } = this;
    return { ...fields, time: this.time, headers: this.headers };
  }
}
