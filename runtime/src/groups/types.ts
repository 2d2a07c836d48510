import type { MessageShape } from "@bufbuild/protobuf";
import type { EventSchemas } from "../definition.js";

/**
 * Metadata of one delivered event, passed to handlers beside the decoded
 * event. `time` and `headers` are read from the message when first used
 * (accessors: a spread `{ ...ctx }` does not copy them; `JSON.stringify`
 * includes them).
 */
export interface EventContext {
  /** Event id (`ce-id`). */
  id: string;
  /** Proto full name (`ce-type`). */
  type: string;
  /** Event name inside the stream (`OrderPlaced`). */
  name: string;
  /** The partition key, verbatim. */
  key: string;
  /** Key used by the idempotency store for this event. */
  idempotencyKey: string;
  stream: string;
  subject: string;
  partition: number;
  /** Stream sequence. */
  sequence: number;
  /** Delivery attempt, 1 for the first. */
  attempt: number;
  /** Event time (`ce-time`). */
  time: Date;
  /** All headers of the message. */
  headers: Record<string, string>;
  /** Aborted when the consumer is stopping; long handlers should give up. */
  signal: AbortSignal;
}

/** Handles one event type. Throwing retries (see `NonRetryableError` to dead-letter at once). */
export type EventHandler<M> = (event: M, ctx: EventContext) => Promise<void>;

/** Handlers for every event type of a stream: the compiler demands each one. */
export type ExhaustiveHandlers<E extends EventSchemas> = { [K in keyof E]: EventHandler<MessageShape<E[K]>> };

/** Handlers for some event types; events without a handler are acknowledged and skipped. */
export type PartialHandlers<E extends EventSchemas> = { [K in keyof E]?: EventHandler<MessageShape<E[K]>> };
