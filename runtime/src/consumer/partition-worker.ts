import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { Headers } from "../layout/headers.js";
import { PIN_GROUP } from "../groups/names.js";
import { parseDeliveryHeadersOnce } from "./fast-headers.js";
import { PinWatch } from "./pin-watch.js";
import { prepareDelivery, type Delivery, type MemberRuntime } from "./delivery.js";
import { runDelivery, type DeliveryEnd, type Outcome } from "./handle-message.js";

/**
 * A counting semaphore (see {@link MemberPermits}). Taking a free
 * permit is synchronous; a waiter is a callback, not a promise.
 * @private
 */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  constructor(private free: number) {}
  /** Takes a permit if one is free. */
  tryAcquire(): boolean {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return false;
  }
  /** Runs `then` once a permit is handed over to it (after a failed {@link tryAcquire}). */
  wait(then: () => void): void {
    this.waiting.push(then);
  }
  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next();
    } else {
      this.free++;
    }
  }
}

const noop = () => undefined;

/**
 * The two bounds on a member's work in flight: `handlers` running at once,
 * and events `unrecorded` (taken for handling and not yet settled: handler
 * running, or record on its way). An event takes an `unrecorded` permit,
 * then a `handlers` one; it gives the handler permit back when its handler
 * returns and the other once its record is confirmed and it is acked.
 * @private
 */
export interface MemberPermits {
  handlers: Semaphore;
  unrecorded: Semaphore;
}

interface Lane {
  running: boolean;
  queue: Delivery[];
  /** Sequence of a message of this key waiting for its delayed redelivery: later ones wait too. */
  waitingFor: number | undefined;
  waitTimer: NodeJS.Timeout | undefined;
}

/** Settings of a worker. @private */
export interface WorkerSettings {
  streamName: string;
  consumerName: string;
  slot: number;
  redrive: boolean;
  maxMessages: number;
  expiresMs: number;
  ackWaitMs: number;
}

/**
 * Reads one partition (or the redrive queue) of a group through its pinned
 * pull consumer and runs the events through per-key lanes: events of one
 * key run one after the other in stream order, events of different keys
 * concurrently (bounded by the member's semaphore). A key whose event waits
 * for a delayed retry holds its later events back, so per-key order holds
 * through retries too.
 * @private
 */
export class PartitionWorker implements DeliveryEnd {
  private messages: ConsumerMessages | undefined;
  private readonly lanes = new Map<string, Lane>();
  private readonly pending = new Set<JsMsg>();
  /** Events taken from their lane and not yet settled (handler running, or record in flight). */
  private inFlight = 0;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private idle: (() => void) | undefined;
  private workingTimer: NodeJS.Timeout | undefined;
  private lastPending = 0;
  /** Pins of this worker's pulls, and the checks that keep them flowing (see {@link PinWatch}). */
  readonly pins: PinWatch;

  constructor(
    private readonly rt: MemberRuntime,
    private readonly permits: MemberPermits,
    readonly settings: WorkerSettings,
  ) {
    this.pins = new PinWatch(rt.conn, settings.streamName, settings.consumerName, () => this.pending.size);
  }

  /** Starts pulling. */
  start(): void {
    this.loop = this.pull();
    this.pins.start();
    // Unacknowledged events held in a lane must not time out while they wait.
    this.workingTimer = setInterval(
      () => {
        for (const m of this.pending) m.working();
      },
      Math.max(1000, this.settings.ackWaitMs / 3),
    );
  }

  /** Stops pulling, lets the running handlers finish and ack; queued events stay unacknowledged for the next owner. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pins.stop();
    this.messages?.stop();
    await this.loop;
    for (const lane of this.lanes.values()) if (lane.waitTimer) clearTimeout(lane.waitTimer);
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    // Acks leave before whatever the caller sends next (a handover reads the consumer's pending count).
    this.rt.acks.flush();
    if (this.workingTimer) clearInterval(this.workingTimer);
    this.lanes.clear();
    this.pending.clear();
  }

  private async pull(): Promise<void> {
    const { js, nc } = this.rt.conn;
    while (!this.stopping && !nc.isClosed()) {
      try {
        const consumer = await js.consumers.get(this.settings.streamName, this.settings.consumerName);
        if (this.stopping) break;
        // A callback, not an async iterator: the messages of one socket read are dispatched in one
        // synchronous run, so their lookups leave in one write and no promise is made per message.
        this.messages = await consumer.consume({
          max_messages: this.settings.maxMessages,
          expires: this.settings.expiresMs,
          group: PIN_GROUP,
          callback: (m) => {
            if (this.stopping) return;
            try {
              this.dispatch(m);
            } catch (err) {
              this.rt.onError(err, { stream: this.settings.streamName, sequence: m.seq });
            }
          },
        });
        parseDeliveryHeadersOnce(this.messages);
        void this.pins.watch(this.messages);
        if (this.stopping) {
          this.messages.stop();
          break;
        }
        const end = await this.messages.closed();
        if (this.stopping || nc.isClosed()) break;
        if (end instanceof Error) this.rt.onError(end, { stream: this.settings.streamName });
      } catch (err) {
        // A closed connection does not come back; the member reports it once.
        if (this.stopping || nc.isClosed()) break;
        this.rt.onError(err, { stream: this.settings.streamName });
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, 500));
    }
  }

  private dispatch(m: JsMsg): void {
    this.pins.delivered();
    const d = prepareDelivery(this.rt, m, this.settings.redrive);
    this.lastPending = d.info.pending;
    const key = d.headers.get(Headers.PartitionKey) || m.subject.slice(m.subject.lastIndexOf(".") + 1);
    d.laneKey = key;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: false, queue: [], waitingFor: undefined, waitTimer: undefined };
      this.lanes.set(key, lane);
    }
    this.pending.add(m);
    if (lane.waitingFor === d.info.streamSequence) {
      lane.waitingFor = undefined;
      if (lane.waitTimer) clearTimeout(lane.waitTimer);
      lane.queue.unshift(d);
    } else {
      lane.queue.push(d);
    }
    this.pump(key, lane);
  }

  private pump(key: string, lane: Lane): void {
    if (lane.running || lane.waitingFor !== undefined || this.stopping) return;
    const d = lane.queue.shift();
    if (!d) {
      this.lanes.delete(key);
      return;
    }
    lane.running = true;
    this.inFlight++;
    if (this.permits.unrecorded.tryAcquire()) this.takeHandlerPermit(d);
    else this.permits.unrecorded.wait(() => this.takeHandlerPermit(d));
  }

  /** Runs `d` once a handler permit is free (its unrecorded permit is taken already); no closure when one is free now. */
  private takeHandlerPermit(d: Delivery): void {
    if (this.permits.handlers.tryAcquire()) this.run(d);
    else this.permits.handlers.wait(() => this.run(d));
  }

  private run(d: Delivery): void {
    try {
      runDelivery(this.rt, d, this);
    } catch (err) {
      // runDelivery does not throw; should it, the event stays unacknowledged and is redelivered after ack_wait.
      this.rt.onError(err, { stream: this.settings.streamName, sequence: d.origin.sequence });
      this.released(d, { kind: "left" });
      this.settled(d, "left");
    }
  }

  /** The handler of `d` is done: its permit goes back and the key's next event may start (its unrecorded permit is held until it settles). */
  released(d: Delivery, outcome: Outcome): void {
    if (d.stage !== 0) return;
    d.stage = 1;
    this.permits.handlers.release();
    const key = d.laneKey;
    const lane = this.lanes.get(key);
    if (!lane) return;
    lane.running = false;
    if (outcome.kind === "retry") {
      lane.waitingFor = d.info.streamSequence;
      // If the redelivery never comes here (the partition moved), let the key go on.
      lane.waitTimer = setTimeout(() => {
        lane.waitingFor = undefined;
        this.pump(key, lane);
      }, outcome.delayMs + this.settings.ackWaitMs);
    }
    this.pump(key, lane);
  }

  /** `d` is acked (after its record), nakked, terminated or left: its unrecorded permit goes back. */
  settled(d: Delivery, kind: Outcome["kind"]): void {
    if (d.stage === 2) return;
    d.stage = 2;
    const done = () => {
      this.permits.unrecorded.release();
      this.pending.delete(d.m);
      // once stopping (released, or the member stops), the lag of the slot is no longer this worker's to report
      if (!this.settings.redrive && !this.stopping) this.rt.metrics.lag.set(this.settings.slot, this.lastPending + this.pending.size);
      if (--this.inFlight === 0 && this.idle) this.idle();
    };
    if (kind === "acked" && this.settings.redrive) {
      // A redrive request is done once handled: remove it from the dead-letter stream.
      void this.rt.conn.jsm.streams.deleteMessage(this.settings.streamName, d.info.streamSequence, false).then(done, done);
    } else {
      done();
    }
  }
}
