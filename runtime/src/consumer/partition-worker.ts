import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { Headers } from "../layout/headers.js";
import { PIN_GROUP } from "../groups/names.js";
import { handleMessage, originOf, type MemberRuntime } from "./handle-message.js";

/** A counting semaphore bounding the handlers that run at once in a member. @private */
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

interface Lane {
  running: boolean;
  queue: JsMsg[];
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
export class PartitionWorker {
  private messages: ConsumerMessages | undefined;
  private readonly lanes = new Map<string, Lane>();
  private readonly pending = new Set<JsMsg>();
  private running = 0;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private idle: (() => void) | undefined;
  private workingTimer: NodeJS.Timeout | undefined;
  private lastPending = 0;

  constructor(
    private readonly rt: MemberRuntime,
    private readonly sem: Semaphore,
    readonly settings: WorkerSettings,
  ) {}

  /** Starts pulling. */
  start(): void {
    this.loop = this.pull();
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
    this.messages?.stop();
    await this.loop;
    for (const lane of this.lanes.values()) if (lane.waitTimer) clearTimeout(lane.waitTimer);
    if (this.running > 0) await new Promise<void>((r) => (this.idle = r));
    if (this.workingTimer) clearInterval(this.workingTimer);
    this.lanes.clear();
    this.pending.clear();
  }

  private async pull(): Promise<void> {
    const { js } = this.rt.conn;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(this.settings.streamName, this.settings.consumerName);
        if (this.stopping) break;
        this.messages = await consumer.consume({ max_messages: this.settings.maxMessages, expires: this.settings.expiresMs, group: PIN_GROUP });
        if (this.stopping) {
          this.messages.stop();
          break;
        }
        for await (const m of this.messages) {
          if (this.stopping) break;
          this.dispatch(m);
        }
      } catch (err) {
        if (this.stopping) break;
        this.rt.onError(err, { stream: this.settings.streamName });
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, 500));
    }
  }

  private dispatch(m: JsMsg): void {
    this.lastPending = m.info.pending;
    const key = m.headers?.get(Headers.PartitionKey) || m.subject.slice(m.subject.lastIndexOf(".") + 1);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { running: false, queue: [], waitingFor: undefined, waitTimer: undefined };
      this.lanes.set(key, lane);
    }
    this.pending.add(m);
    if (lane.waitingFor === m.seq) {
      lane.waitingFor = undefined;
      if (lane.waitTimer) clearTimeout(lane.waitTimer);
      lane.queue.unshift(m);
    } else {
      lane.queue.push(m);
    }
    this.pump(key, lane);
  }

  private pump(key: string, lane: Lane): void {
    if (lane.running || lane.waitingFor !== undefined || this.stopping) return;
    const m = lane.queue.shift();
    if (!m) {
      this.lanes.delete(key);
      return;
    }
    lane.running = true;
    this.running++;
    void this.process(key, lane, m);
  }

  private async process(key: string, lane: Lane, m: JsMsg): Promise<void> {
    await this.sem.acquire();
    let outcome;
    try {
      outcome = await handleMessage(this.rt, m, originOf(m, this.settings.redrive));
    } finally {
      this.sem.release();
    }
    this.pending.delete(m);
    if (!this.settings.redrive) this.rt.metrics.lag.set(this.settings.slot, this.lastPending + this.pending.size);
    if (outcome.kind === "acked" && this.settings.redrive) {
      // A redrive request is done once handled: remove it from the dead-letter stream.
      await this.rt.conn.jsm.streams.deleteMessage(this.settings.streamName, m.seq, false).catch(() => undefined);
    }
    lane.running = false;
    this.running--;
    if (outcome.kind === "retry") {
      lane.waitingFor = m.seq;
      // If the redelivery never comes here (the partition moved), let the key go on.
      lane.waitTimer = setTimeout(() => {
        lane.waitingFor = undefined;
        this.pump(key, lane);
      }, outcome.delayMs + this.settings.ackWaitMs);
    }
    if (this.running === 0 && this.idle) this.idle();
    this.pump(key, lane);
  }
}
