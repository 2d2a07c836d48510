import type { JsMsg } from "@nats-io/jetstream";

/**
 * Acknowledgements of one member, sent together at the end of the
 * event-loop turn that made them (`setImmediate`): one socket write for a
 * turn's acks instead of one per ack (nats.js flushes its buffer in a
 * microtask after the first write into an empty buffer, and acks made from
 * different promise continuations each start a new write). Acks are not
 * awaited in any case; {@link flush} sends what is queued at once (before a
 * handover reads the consumer's state).
 * @private
 */
export class AckBatch {
  private queued: JsMsg[] = [];
  private scheduled = false;

  /** Acknowledges `m` at the end of this turn. */
  ack(m: JsMsg): void {
    this.queued.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends the queued acks now. */
  flush(): void {
    this.scheduled = false;
    const q = this.queued;
    this.queued = [];
    for (const m of q) m.ack();
  }
}
