import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { readDeliveryInfo, type DeliveryInfo } from "./delivery-info.js";

/** Settings of a {@link SlotReader}. @private */
export interface ReaderSettings {
  /** JetStream API prefix (`$JS.API`, or the domain's). */
  apiPrefix: string;
  stream: string;
  consumer: string;
  /** How long one pull request waits on the server for messages. */
  expiresMs: number;
  /** The server's idle heartbeat while a pull request waits. */
  heartbeatMs: number;
}

/** Where a {@link SlotReader} reports. @private */
export interface ReaderEvents {
  /** A delivered event, with what its reply subject says (sequences and pending count). */
  delivered(m: Msg, info: DeliveryInfo): void;
  /** Deliveries can no longer be trusted to be complete and in order: start again from the floor with a new consumer. */
  lost(reason: string): void;
  /** A pull request ended short (it expired, or the server ended it): its room may be asked for again. */
  requestEnded(): void;
}

interface PullRequest {
  /** Messages asked for and not yet received. */
  remaining: number;
}

/**
 * Reads one consumer (`ack_policy: none`) by pull requests on the public
 * JetStream protocol: `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` with a
 * reply subject of its own per request, so that the server's status for a
 * request (408 expired, 409, heartbeats) tells how many of its messages will
 * not come. Nothing is asked for until the owner has room ({@link pull}):
 * with no acknowledgements the server bounds nothing, so the reader is the
 * backpressure.
 *
 * Deliveries of one consumer carry consecutive consumer sequences; the
 * server's idle heartbeats carry the last one it sent. A gap in either, a
 * consumer that is gone (409 Consumer Deleted, 503 no responders), or no
 * heartbeat for three of their periods while requests wait means a delivery
 * was lost (a reconnect, a restarted server): the reader reports `lost` once
 * and stops.
 * @private
 */
export class SlotReader {
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly requests = new Map<number, PullRequest>();
  private nextRequest = 0;
  /** Messages asked for and not yet received, over all requests. */
  requested = 0;
  /** Consumer sequence of the last delivery. */
  private lastDelivered = 0;
  private lastHeard = performance.now();
  private readonly watchdog: NodeJS.Timeout;
  private done = false;
  private readonly pullSubject: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly settings: ReaderSettings,
    private readonly events: ReaderEvents,
  ) {
    this.inbox = createInbox();
    this.pullSubject = `${settings.apiPrefix}.CONSUMER.MSG.NEXT.${settings.stream}.${settings.consumer}`;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (_err, m) => this.received(m) });
    this.watchdog = setInterval(() => this.check(), settings.heartbeatMs);
  }

  /** Asks for `n` more messages. */
  pull(n: number): void {
    if (this.done || n <= 0 || this.nc.isClosed()) return;
    const id = ++this.nextRequest;
    if (this.requests.size === 0) this.lastHeard = performance.now();
    this.requests.set(id, { remaining: n });
    this.requested += n;
    const body = `{"batch":${n},"expires":${this.settings.expiresMs * 1_000_000},"idle_heartbeat":${this.settings.heartbeatMs * 1_000_000}}`;
    this.nc.publish(this.pullSubject, body, { reply: `${this.inbox}.${id}` });
  }

  /** Stops reading; what arrives afterwards is dropped. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.watchdog);
    this.sub.unsubscribe();
    this.requests.clear();
    this.requested = 0;
  }

  private received(m: Msg): void {
    if (this.done) return;
    this.lastHeard = performance.now();
    if (m.reply) {
      // a delivery carries its event's own subject, not the request's: the server fills requests in
      // the order they came, so it counts against the oldest one not yet filled
      const info = readDeliveryInfo(m.reply);
      if (!info) return this.fail(`a delivery with an unexpected reply subject ${m.reply}`);
      for (const [id, request] of this.requests) {
        this.requested--;
        if (--request.remaining <= 0) this.requests.delete(id);
        break;
      }
      if (info.consumerSequence !== this.lastDelivered + 1) return this.fail(`consumer sequence ${info.consumerSequence} after ${this.lastDelivered}`);
      this.lastDelivered = info.consumerSequence;
      this.events.delivered(m, info);
      return;
    }
    this.status(m, Number(m.subject.slice(this.inbox.length + 1)));
  }

  /** A status message, sent to the reply subject of request `id`. */
  private status(m: Msg, id: number): void {
    const request = this.requests.get(id);
    const h = m.headers;
    const code = h?.code ?? 0;
    if (code === 100) {
      // idle heartbeat: the last consumer sequence the server sent
      const last = Number(h?.get("Nats-Last-Consumer") ?? "0");
      if (last > this.lastDelivered) this.fail(`the server sent up to consumer sequence ${last}, this member received ${this.lastDelivered}`);
      return;
    }
    if (code === 503) return this.fail("the consumer is gone (no responders)");
    const description = (h?.description ?? "").toLowerCase();
    if (code === 409 && description.includes("deleted")) return this.fail("the consumer was deleted");
    // 404/408 (request ended), 409 (limits: max waiting, max bytes, leadership change): the request is over
    if (code === 409 && description.includes("leadership")) return this.fail("the consumer's leader changed");
    if (request) {
      this.requested -= request.remaining;
      this.requests.delete(id);
      this.events.requestEnded();
    }
  }

  private check(): void {
    if (this.done || this.requests.size === 0) return;
    if (performance.now() - this.lastHeard > 3 * this.settings.heartbeatMs + 1000) this.fail("no heartbeat from the server for the pending pull requests");
  }

  private fail(reason: string): void {
    if (this.done) return;
    this.stop();
    this.events.lost(reason);
  }
}
