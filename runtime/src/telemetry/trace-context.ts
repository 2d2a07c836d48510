import type { Context, TextMapGetter, TextMapSetter } from "@opentelemetry/api";
import { otel } from "./otel-api.js";

type Carrier = Record<string, string>;

const setter: TextMapSetter<Carrier> = { set: (c, k, v) => void (c[k] = v) };
const getter: TextMapGetter<Carrier> = { keys: (c) => Object.keys(c), get: (c, k) => c[k] };

/**
 * The trace context headers (`traceparent`, `tracestate`, as the
 * application's registered propagator writes them) of `ctx`, or undefined
 * when it holds no valid span context.
 * @private
 */
export function traceHeadersOf(ctx: Context): Carrier | undefined {
  if (!otel) return undefined;
  const span = otel.trace.getSpanContext(ctx);
  if (span === undefined || !otel.isSpanContextValid(span)) return undefined;
  const carrier: Carrier = {};
  otel.propagation.inject(ctx, carrier, setter);
  return carrier;
}

/**
 * The trace context headers of the active OpenTelemetry span
 * (`traceparent`, `tracestate`), or undefined, quickly, when
 * `@opentelemetry/api` is not installed or no span is active.
 */
export function traceContextHeaders(): Record<string, string> | undefined {
  return otel ? traceHeadersOf(otel.context.active()) : undefined;
}

/**
 * Adds the trace context headers of the active OpenTelemetry span
 * ({@link traceContextHeaders}) through `set`; does nothing when there are
 * none.
 */
export function injectTraceContext(set: (name: string, value: string) => void): void {
  const carrier = traceContextHeaders();
  if (carrier) for (const [k, v] of Object.entries(carrier)) set(k, v);
}

/**
 * The OpenTelemetry `Context` carried by an event's headers (the reverse of
 * {@link injectTraceContext}), to parent or link a span of the event's
 * processing; undefined when `@opentelemetry/api` is not installed.
 */
export function extractTraceContext(headers: Record<string, string>): unknown {
  return otel?.propagation.extract(otel.ROOT_CONTEXT, headers, getter);
}
