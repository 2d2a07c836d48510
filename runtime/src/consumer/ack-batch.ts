import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { frameSinkOf, sendTextFrames, type FrameSink } from "../frame-sink.js";

/** The parts of nats.js 3.x's `JsMsgImpl` (not in its public types) an ack frame needs: the reply subject, and the flag that makes every ack but a progress ack final. */
interface AckState {
  didAck?: unknown;
  reply?: unknown;
}

/**
 * Acknowledgements of one member, sent together at the end of the
 * event-loop turn that made them (`setImmediate`): one socket write for a
 * turn's acks instead of one per ack (nats.js flushes its buffer in a
 * microtask after the first write into an empty buffer, and acks made from
 * different promise continuations each start a new write). The acks of a
 * turn go out as `PUB <reply> 4\r\n+ACK\r\n` frames written together, one
 * buffer for nats.js, rather than one `publish` (a protocol line built and
 * encoded) per ack; when nats.js's internals do not have the expected shape,
 * each message is acked through its own `ack()`. Acks are not awaited in
 * any case; {@link flush} sends what is queued at once (before a handover
 * reads the consumer's state).
 * @private
 */
export class AckBatch {
  private queued: JsMsg[] = [];
  private scheduled = false;
  private readonly sink: FrameSink | undefined;

  constructor(private readonly nc: NatsConnection) {
    this.sink = frameSinkOf(nc);
  }

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
    if (q.length === 0) return;
    this.queued = [];
    let frames = "";
    const marked: AckState[] = [];
    for (const m of q) {
      const state = m as unknown as AckState;
      const reply = state.reply;
      if (state.didAck === false && typeof reply === "string" && reply.length > 0) {
        frames += `PUB ${reply} 4\r\n+ACK\r\n`;
        state.didAck = true; // as nats.js's own ack() does: final, a second one is not sent
        marked.push(state);
      } else if (state.didAck === undefined) {
        m.ack();
      }
    }
    if (marked.length === 0 || sendTextFrames(this.nc, this.sink, frames, marked.length, 4 * marked.length)) return;
    for (const s of marked) {
      s.didAck = false;
      (s as unknown as JsMsg).ack();
    }
  }
}
