import { resolveMeter, type CounterLike, type HistogramLike, type MeterLike, type MetricAttributes } from "../telemetry/meter.js";
import { Attr, DURATION_BUCKETS_S, MESSAGING_SYSTEM, Metric } from "../telemetry/semconv.js";

export type { MeterLike, MetricAttributes } from "../telemetry/meter.js";

/** A snapshot of a consumer group member's counters. */
export interface ConsumerMetricsSnapshot {
  /** Events whose handler succeeded (and were recorded and acknowledged). */
  handled: number;
  /** Handler runs that threw (each retry counts). */
  failed: number;
  /** Failed runs that were scheduled for another attempt (delayed nak). */
  retried: number;
  /** Events moved to the dead-letter stream. */
  deadLettered: number;
  /** Deliveries skipped because the idempotency store had them as done. */
  duplicates: number;
  /** Events without a handler (PartialHandlers) or of a type unknown to this code, acknowledged unhandled. */
  skipped: number;
  /** Handler latency percentiles over the last 2,048 handled events, in ms. */
  latencyMs: { p50: number; p99: number; max: number; count: number };
  /** Events not yet acknowledged, per owned partition, as last reported by the server with a delivery. */
  lag: Record<number, number>;
}

/** What {@link ConsumerMetrics.count} counts; `skipped` is kept in the snapshot only. */
type Counted = "handled" | "failed" | "retried" | "deadLettered" | "duplicates" | "skipped";
type Exported = Exclude<Counted, "skipped">;

/** Handler latencies kept for the snapshot's percentiles. */
const LATENCY_WINDOW = 2048;

const COUNTERS: Record<Exported, { name: string; description: string }> = {
  handled: { name: Metric.Handled, description: "Events handled successfully" },
  failed: { name: Metric.Failed, description: "Handler runs that threw" },
  retried: { name: Metric.Retried, description: "Failed events scheduled for another attempt" },
  deadLettered: { name: Metric.DeadLettered, description: "Events moved to the dead-letter stream" },
  duplicates: { name: Metric.Duplicates, description: "Redeliveries absorbed by the idempotency store" },
};

/**
 * Counters of one consumer group member, readable through `metrics()` and
 * recorded through OpenTelemetry (the given meter, else the global one when
 * `@opentelemetry/api` is installed): counters
 * `chronicle.consumer.handled|failed|retried|dead_lettered|duplicates`
 * (`{event}`), the handler duration histogram `messaging.process.duration`
 * (s) and the observable gauge `chronicle.consumer.lag` per partition
 * (`messaging.destination.partition.id`). Every measurement carries
 * `messaging.system`, `messaging.destination.name` (the stream) and
 * `messaging.consumer.group.name`. Call {@link close} when the member stops.
 * @private
 */
export class ConsumerMetrics {
  private readonly counts: Record<Counted, number> = { handled: 0, failed: 0, retried: 0, deadLettered: 0, duplicates: 0, skipped: 0 };
  private readonly samples = new Float64Array(LATENCY_WINDOW);
  private sampleCount = 0;
  /** Unacknowledged events per owned partition, as the member last heard. */
  readonly lag = new Map<number, number>();
  private readonly counters: Partial<Record<Exported, CounterLike>> = {};
  private readonly duration: HistogramLike | undefined;
  private readonly attributes: MetricAttributes;
  private readonly stopObserving: (() => void) | undefined;

  constructor(stream: string, group: string, meter?: MeterLike) {
    this.attributes = { [Attr.MessagingSystem]: MESSAGING_SYSTEM, [Attr.MessagingDestinationName]: stream, [Attr.MessagingConsumerGroupName]: group };
    const m = resolveMeter(meter);
    if (!m) return;
    for (const [what, c] of Object.entries(COUNTERS) as [Exported, (typeof COUNTERS)[Exported]][]) {
      this.counters[what] = m.createCounter(c.name, { unit: "{event}", description: c.description });
    }
    this.duration = m.createHistogram(Metric.ProcessDuration, {
      unit: "s",
      description: "Handler run time per event",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    const gauge = m.createObservableGauge(Metric.Lag, { unit: "{event}", description: "Events of a partition not yet acknowledged by the group" });
    const observe = (r: { observe(value: number, attributes?: MetricAttributes): void }) => {
      for (const [p, v] of this.lag) r.observe(v, { ...this.attributes, [Attr.MessagingDestinationPartitionId]: String(p) });
    };
    gauge.addCallback(observe);
    this.stopObserving = gauge.removeCallback ? () => gauge.removeCallback!(observe) : undefined;
  }

  /** Counts one event (or handler run) of a kind. */
  count(what: Counted): void {
    this.counts[what]++;
    if (what !== "skipped") this.counters[what]?.add(1, this.attributes);
  }

  /** Records one handler run's duration. */
  latency(ms: number): void {
    this.samples[this.sampleCount % LATENCY_WINDOW] = ms;
    this.sampleCount++;
    this.duration?.record(ms / 1000, this.attributes);
  }

  /** The counters a member's heartbeat carries: handled, failed and dead-lettered since it started. */
  totals(): { handled: number; failed: number; deadLettered: number } {
    return { handled: this.counts.handled, failed: this.counts.failed, deadLettered: this.counts.deadLettered };
  }

  /** The counters now, and handler latency percentiles over the last 2,048 runs. */
  snapshot(): ConsumerMetricsSnapshot {
    const n = Math.min(this.sampleCount, LATENCY_WINDOW);
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    const pct = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      ...this.counts,
      latencyMs: { p50: pct(0.5), p99: pct(0.99), max: n === 0 ? 0 : sorted[n - 1]!, count: this.sampleCount },
      lag: Object.fromEntries(this.lag),
    };
  }

  /** Stops reporting the lag gauge (the meter may outlive the member). */
  close(): void {
    this.stopObserving?.();
  }
}
