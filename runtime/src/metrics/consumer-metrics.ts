/** Attribute values of an OpenTelemetry measurement. */
export type MetricAttributes = Record<string, string | number | boolean>;

/**
 * The part of an OpenTelemetry `Meter` (`@opentelemetry/api`) the consumer
 * uses. A real `Meter` fits it structurally, so the runtime does not depend on
 * `@opentelemetry/api`: pass `metrics.getMeter("my-service")`.
 */
export interface MeterLike {
  createCounter(name: string, options?: { description?: string; unit?: string }): { add(value: number, attributes?: MetricAttributes): void };
  createHistogram(name: string, options?: { description?: string; unit?: string }): { record(value: number, attributes?: MetricAttributes): void };
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): { addCallback(cb: (result: { observe(value: number, attributes?: MetricAttributes): void }) => void): void };
}

type Counter = ReturnType<MeterLike["createCounter"]>;
type Histogram = ReturnType<MeterLike["createHistogram"]>;

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

const WINDOW = 2048;

/**
 * Counters of one member, readable through the API and, through
 * OpenTelemetry, when the application passes a `meter`: counters
 * `chronicle.consumer.handled|failed|retried|dead_lettered|duplicates`, a
 * histogram `chronicle.consumer.handler.duration` (ms) and an observable
 * gauge `chronicle.consumer.lag` per partition. Attributes: stream, group.
 * @private
 */
export class ConsumerMetrics {
  private readonly c = { handled: 0, failed: 0, retried: 0, deadLettered: 0, duplicates: 0, skipped: 0 };
  private readonly samples = new Float64Array(WINDOW);
  private sampleCount = 0;
  readonly lag = new Map<number, number>();
  private readonly counters: Partial<Record<"handled" | "failed" | "retried" | "deadLettered" | "duplicates", Counter>>;
  private readonly histogram: Histogram | undefined;
  private readonly attrs: MetricAttributes;

  constructor(stream: string, group: string, meter?: MeterLike) {
    this.attrs = { "chronicle.stream": stream, "chronicle.group": group };
    if (!meter) {
      this.counters = {};
      this.histogram = undefined;
      return;
    }
    this.counters = {
      handled: meter.createCounter("chronicle.consumer.handled", { description: "Events handled successfully" }),
      failed: meter.createCounter("chronicle.consumer.failed", { description: "Handler runs that threw" }),
      retried: meter.createCounter("chronicle.consumer.retried", { description: "Failed events scheduled for another attempt" }),
      deadLettered: meter.createCounter("chronicle.consumer.dead_lettered", { description: "Events moved to the dead-letter stream" }),
      duplicates: meter.createCounter("chronicle.consumer.duplicates", { description: "Redeliveries absorbed by the idempotency store" }),
    };
    this.histogram = meter.createHistogram("chronicle.consumer.handler.duration", { unit: "ms", description: "Handler latency" });
    const gauge = meter.createObservableGauge("chronicle.consumer.lag", { description: "Unacknowledged events per partition" });
    gauge.addCallback((r) => {
      for (const [p, v] of this.lag) r.observe(v, { ...this.attrs, "chronicle.partition": p });
    });
  }

  count(what: "handled" | "failed" | "retried" | "deadLettered" | "duplicates" | "skipped"): void {
    this.c[what]++;
    if (what !== "skipped") this.counters[what]?.add(1, this.attrs);
  }

  latency(ms: number): void {
    this.samples[this.sampleCount % WINDOW] = ms;
    this.sampleCount++;
    this.histogram?.record(ms, this.attrs);
  }

  snapshot(): ConsumerMetricsSnapshot {
    const n = Math.min(this.sampleCount, WINDOW);
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    const pct = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      ...this.c,
      latencyMs: { p50: pct(0.5), p99: pct(0.99), max: n === 0 ? 0 : sorted[n - 1]!, count: this.sampleCount },
      lag: Object.fromEntries(this.lag),
    };
  }
}
