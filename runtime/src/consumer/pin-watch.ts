import type { ConsumerMessages } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import { PIN_GROUP, pinnedClient } from "../groups/names.js";

/** First wait before a partition worker that receives nothing checks who holds its pin. */
const CHECK_FIRST_MS = 1000;
/** Longest wait between two such checks while the partition stays idle (each finding nothing doubles it). */
const CHECK_MAX_MS = 30_000;

/**
 * Keeps a partition worker's pinned pulls flowing through the races of a
 * rebalance. The server pins a consumer to one client at a time (DESIGN.md
 * 6); a member that gives a partition up unpins it, so that the next owner
 * gets the pin at once. Races can still leave the pin with a pull nobody
 * reads: a pull the previous owner sent just before it stopped reaches the
 * server after its unpin and is pinned, or a pull cut short by an unpin is
 * made again by nats.js without the pin id the server still holds for it.
 * The next owner then gets nothing until `priority_timeout` (half the
 * failover bound: seconds) although the partition has events; with four
 * members started together, about one run in two stalled so for 2.5-5 s.
 *
 * So a worker that received nothing for a while asks the server about its
 * consumer. When the consumer is pinned and has events to deliver (below its
 * `max_ack_pending`) while this worker, which keeps pulling, gets none, the
 * pin is stale: the worker unpins it, and its own waiting pull is pinned
 * next. Events the server had already sent to a stale pull are delivered
 * again after `ack_wait`; resetting the consumer here would bring them
 * sooner but also redeliver what a previous owner is still finishing
 * (measured: up to a few hundred handlers run twice in 50,000 events). The
 * waits double while nothing is wrong, so an idle partition costs a consumer
 * info request every 30 s at most.
 * @private
 */
export class PinWatch {
  /** Pin ids the server gave this worker's pulls: a handover frees the pin only while it is one of these. */
  readonly pinIds = new Set<string>();
  private received = 0;
  private seen = 0;
  private waitMs = CHECK_FIRST_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly stream: string,
    private readonly consumer: string,
    /** Unacknowledged messages the worker holds now. */
    private readonly holding: () => number,
  ) {}

  /** Starts the checks of an idle worker. */
  start(): void {
    this.schedule();
  }

  /** A message arrived. */
  delivered(): void {
    this.received++;
  }

  /** Ends the checks. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Follows the status of one `consume()`, recording the pins the server gives it. */
  async watch(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (status.type === "consumer_pinned") this.pinIds.add(status.id);
      }
    } catch {
      // the messages ended
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check().finally(() => this.schedule()), this.waitMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.received !== this.seen) {
      this.seen = this.received;
      this.waitMs = CHECK_FIRST_MS;
      return;
    }
    const { jsm, nc } = this.conn;
    if (this.stopped || nc.isClosed()) return;
    this.waitMs = Math.min(this.waitMs * 2, CHECK_MAX_MS);
    try {
      const info = await jsm.consumers.info(this.stream, this.consumer);
      const holding = this.holding();
      if (this.stopped || pinnedClient(info) === undefined) return;
      // Nothing this worker could be given, or it holds as much as the consumer lets out: all is well.
      if (info.num_pending === 0 && info.num_ack_pending <= holding) return;
      if (info.num_ack_pending >= (info.config.max_ack_pending ?? Infinity)) return;
      // Events are waiting and this worker, which pulls, gets none: the pin is a stale one (a
      // previous owner's last pull, or this worker's own earlier pull, whose id nats.js forgot).
      await jsm.consumers.unpin(this.stream, this.consumer, PIN_GROUP);
      this.waitMs = CHECK_FIRST_MS;
    } catch {
      // the next check tries again; the worker's pull loop reports lasting failures
    }
  }
}
