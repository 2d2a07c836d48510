import type { ChronicleConnection } from "../connection.js";
import type { EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode, isChronicleError } from "../errors.js";
import { PublishTelemetry } from "../telemetry/publish-telemetry.js";
import { wireOf } from "../wire/select-wire.js";
import { AckTracker } from "./ack-tracker.js";
import { resolveProducerOptions, type ResolvedProducerOptions } from "./options.js";
import type { PendingPublish, SendTime } from "./pending-publish.js";
import { PublishPreparer } from "./prepare-publish.js";
import { PublishWindow } from "./publish-window.js";
import type { CloseReport, EventInput, Producer, ProducerOptions, PublishOptions, PublishResult } from "./types.js";

/** Failed publishes the close report lists, at most. */
const MAX_FAILURES_KEPT = 10_000;

const NO_OPTIONS: PublishOptions = Object.freeze({});

class PipelinedProducer<E extends EventSchemas> implements Producer<E> {
  private readonly options: ResolvedProducerOptions;
  private readonly window: PublishWindow<PendingPublish>;
  private readonly acks: AckTracker;
  private readonly preparer: PublishPreparer<E>;
  private readonly telemetry: PublishTelemetry;
  /** Admitted publishes whose first send waits for the next turn of the event loop. */
  private firstSends: PendingPublish[] = [];
  private firstSendsScheduled = false;
  private readonly failures: { dedupKey: string; error: Error }[] = [];
  private acknowledged = 0;
  private closed = false;
  private closing: Promise<CloseReport> | undefined;
  /** The publish whose promise {@link attach} is creating. */
  private attaching: PendingPublish | undefined;
  /** One executor for every publish's promise, instead of a new closure per publish. */
  private readonly attach = (resolve: (r: PublishResult | PromiseLike<PublishResult>) => void): void => {
    this.attaching!.settle = resolve;
  };

  constructor(conn: ChronicleConnection, definition: StreamDefinition<E>, options: ProducerOptions) {
    this.options = resolveProducerOptions(definition, options);
    const wire = wireOf(conn);
    this.window = new PublishWindow(this.options.maxInFlight);
    this.telemetry = new PublishTelemetry(this.options.stream, this.options.tracing, this.options.meter);
    this.acks = new AckTracker(conn, wire, this.options, (p, error, result) => this.settle(p, error, result));
    this.preparer = new PublishPreparer(definition, this.options, wire, this.acks.inbox, this.telemetry);
    void conn.nc
      .closed()
      .then(() =>
        this.acks.failAll(
          new ChronicleError(ErrorCode.Closed, "the NATS connection closed before the event was acknowledged", { context: { stream: this.options.stream } }),
        ),
      );
  }

  publish<K extends keyof E & string>(name: K, event: EventInput<E[K]>, options: PublishOptions = NO_OPTIONS): Promise<PublishResult> {
    if (this.closed) {
      return Promise.reject(new ChronicleError(ErrorCode.Closed, "the producer is closed", { context: { stream: this.options.stream } }));
    }
    let p: PendingPublish;
    try {
      p = this.preparer.prepare(name, event, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.attaching = p;
    const promise = new Promise<PublishResult>(this.attach);
    this.attaching = undefined;
    if (this.window.admit(p)) this.queueFirstSend(p);
    return promise;
  }

  async publishBatch<K extends keyof E & string>(items: readonly { name: K; event: EventInput<E[K]>; options?: PublishOptions }[]): Promise<PublishResult[]> {
    const settled = await Promise.allSettled(items.map((it) => this.publish(it.name, it.event, it.options)));
    const firstFailed = settled.findIndex((s) => s.status === "rejected");
    if (firstFailed >= 0) {
      const failed = settled.filter((s) => s.status === "rejected").length;
      const err = (settled[firstFailed] as PromiseRejectedResult).reason as Error;
      throw new ChronicleError(
        isChronicleError(err) ? err.code : ErrorCode.Internal,
        `${failed} of ${items.length} events of the batch failed; the first (index ${firstFailed}): ${err.message}`,
        { context: { stream: this.options.stream, index: firstFailed, failed }, cause: err },
      );
    }
    return settled.map((s) => (s as PromiseFulfilledResult<PublishResult>).value);
  }

  flush(): Promise<void> {
    return this.window.whenIdle();
  }

  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.flush();
      this.acks.close();
      return { acknowledged: this.acknowledged, failed: [...this.failures] };
    })();
    return this.closing;
  }

  /**
   * Queues a first send for the next turn of the event loop. Publishes made
   * in many microtasks (a caller awaiting each result in turn) then leave in
   * one batch and one socket write, instead of one write each. The publish
   * timeout counts from that first send.
   */
  private queueFirstSend(p: PendingPublish): void {
    this.firstSends.push(p);
    if (!this.firstSendsScheduled) {
      this.firstSendsScheduled = true;
      setImmediate(this.sendFirsts);
    }
  }

  private readonly sendFirsts = (): void => {
    this.firstSendsScheduled = false;
    const batch = this.firstSends;
    this.firstSends = [];
    const now: SendTime = { at: performance.now() };
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      p.first = now;
      this.acks.send(p, now);
    }
  };

  private settle(p: PendingPublish, error: Error | undefined, result?: PublishResult): void {
    this.acks.forget(p);
    if (error) {
      if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push({ dedupKey: p.dedupKey, error });
      this.telemetry.failed(p.span, p.first.at, error);
      p.settle(Promise.reject(error));
    } else {
      this.acknowledged++;
      this.telemetry.succeeded(p.span, p.first.at, p.payloadSize);
      p.settle(result!);
    }
    const next = this.window.release();
    if (next !== undefined) this.queueFirstSend(next);
  }
}

/**
 * Creates a pipelined, acknowledged producer for one stream: the entry point
 * generated code calls.
 *
 * Each publish is encoded once and sent as a core NATS publish whose reply
 * subject is under one wildcard inbox subscription of the producer; the
 * JetStream acknowledgement is matched to it by reply token. The producer
 * writes each publish's header block and event into a shared slab, and the
 * connection's wire sends them (as one whole `HPUB` frame, or through
 * `nc.publish`; see `ConnectOptions.wire`). Up to `maxInFlight` publishes
 * are in flight; more wait (backpressure). A publish resolves when the
 * server has stored the event, or reports `duplicate: true` when its dedup
 * key (`Nats-Msg-Id`) was stored inside the stream's duplicate window. An
 * attempt without an ack within `ackTimeoutMs`, and every attempt in flight
 * when the connection was lost, is sent again with the same dedup key, so
 * retries never store an event twice within the duplicate window.
 *
 * With `@opentelemetry/api` installed and an SDK registered, each publish
 * is a `publish <stream>` span whose context the event carries
 * (`traceparent`), and is counted in the messaging metrics.
 *
 * Errors are {@link ChronicleError}s: `not_found` (no such stream),
 * `payload_too_large`, `wrong_last_sequence`, `no_responders`, `timeout`,
 * `closed`, `permission_denied`, `invalid_argument`.
 */
export function createProducer<E extends EventSchemas>(conn: ChronicleConnection, definition: StreamDefinition<E>, options: ProducerOptions = {}): Producer<E> {
  return new PipelinedProducer(conn, definition, options);
}
