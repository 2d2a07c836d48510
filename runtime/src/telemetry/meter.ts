import { INSTRUMENTATION_SCOPE, otel } from "./otel-api.js";

/** Attribute values of an OpenTelemetry measurement. */
export type MetricAttributes = Record<string, string | number | boolean>;

/** Options of an instrument, as `@opentelemetry/api`'s `MetricOptions` has them. */
export interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/**
 * The part of an OpenTelemetry `Meter` (`@opentelemetry/api`) Chronicle
 * uses; a real `Meter` fits it. Pass one (`metrics.getMeter("my-service")`)
 * to record on a meter of your own; without one, Chronicle uses the global
 * meter provider's `@chronicle/runtime` meter.
 */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: MetricAttributes): void };
  createHistogram(name: string, options?: InstrumentOptions): { record(value: number, attributes?: MetricAttributes): void };
  createObservableGauge(
    name: string,
    options?: InstrumentOptions,
  ): {
    addCallback(cb: (result: { observe(value: number, attributes?: MetricAttributes): void }) => void): void;
    removeCallback?(cb: (result: { observe(value: number, attributes?: MetricAttributes): void }) => void): void;
  };
}

/** A counter of a {@link MeterLike}. */
export type CounterLike = ReturnType<MeterLike["createCounter"]>;
/** A histogram of a {@link MeterLike}. */
export type HistogramLike = ReturnType<MeterLike["createHistogram"]>;

/**
 * `meter`, or the `@chronicle/runtime` meter of the global meter provider
 * when `@opentelemetry/api` is installed, else undefined (nothing is
 * recorded). The global provider is read once, when a producer, member or
 * store is made: register the SDK before making them.
 */
export function resolveMeter(meter?: MeterLike): MeterLike | undefined {
  return meter ?? otel?.metrics.getMeter(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version);
}
