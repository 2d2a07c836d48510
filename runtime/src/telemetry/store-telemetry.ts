import { resolveMeter, type HistogramLike, type MeterLike, type MetricAttributes } from "./meter.js";
import { errorTypeOf } from "./publish-telemetry.js";
import { Attr, DURATION_BUCKETS_S, Metric } from "./semconv.js";

/** An idempotency store operation. */
export type StoreOperation = "lookup" | "record";

/**
 * The metrics of one idempotency store: the `chronicle.idempotency.duration`
 * histogram (s) of its requests, request to answer, by operation, with
 * `error.type` when the store gave no answer. A batched lookup is one
 * request however many keys it holds.
 */
export class StoreTelemetry {
  private readonly duration: HistogramLike | undefined;
  private readonly attributes: Record<StoreOperation, MetricAttributes>;

  constructor(
    private readonly bucket: string,
    meter?: MeterLike,
  ) {
    this.duration = resolveMeter(meter)?.createHistogram(Metric.StoreDuration, {
      unit: "s",
      description: "Idempotency store requests, request to answer",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.attributes = { lookup: this.attributesOf("lookup"), record: this.attributesOf("record") };
  }

  private attributesOf(operation: StoreOperation): MetricAttributes {
    return { [Attr.StoreBucket]: this.bucket, [Attr.StoreOperation]: operation };
  }

  /** Records a request sent at `sentAt` (`performance.now()`) and answered now, or failed with `error`. */
  answered(operation: StoreOperation, sentAt: number, error?: unknown): void {
    if (this.duration === undefined) return;
    const seconds = (performance.now() - sentAt) / 1000;
    this.duration.record(seconds, error === undefined ? this.attributes[operation] : { ...this.attributes[operation], [Attr.ErrorType]: errorTypeOf(error) });
  }
}
