// @opentelemetry/api is not a dependency of the runtime (it is not installed
// in this workspace). Instead Chronicle reads the OpenTelemetry API's global
// registration, which every copy of @opentelemetry/api 1.x shares under
// Symbol.for("opentelemetry.js.api.1"): when the application has installed
// an SDK, its context manager and propagator are found there; otherwise
// there is nothing and tracing costs one property lookup per event.

/** The parts of an OpenTelemetry `Context` Chronicle uses. */
interface OtelContext {
  getValue(key: symbol): unknown;
}

interface OtelGlobal {
  context?: { active(): OtelContext };
  propagation?: {
    inject(ctx: OtelContext, carrier: Record<string, string>, setter: { set(c: Record<string, string>, k: string, v: string): void }): void;
    extract(
      ctx: OtelContext,
      carrier: Record<string, string>,
      getter: { keys(c: Record<string, string>): string[]; get(c: Record<string, string>, k: string): string | undefined },
    ): OtelContext;
  };
}

const API_KEY = Symbol.for("opentelemetry.js.api.1");
const SPAN_KEY = Symbol.for("OpenTelemetry Context Key SPAN");
const setter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };
const getter = { keys: (c: Record<string, string>) => Object.keys(c), get: (c: Record<string, string>, k: string) => c[k] };

function otel(): OtelGlobal | undefined {
  return (globalThis as Record<symbol, OtelGlobal | undefined>)[API_KEY];
}

/**
 * Adds the W3C trace context (`traceparent`, `tracestate`) of the active
 * OpenTelemetry span to a header setter, through the application's
 * registered propagator. Does nothing when the application registered no
 * OpenTelemetry SDK or no span is active.
 */
export function injectTraceContext(set: (name: string, value: string) => void): void {
  const carrier = traceContextHeaders();
  if (carrier) for (const [k, v] of Object.entries(carrier)) set(k, v);
}

/**
 * The trace context headers of the active OpenTelemetry span
 * (`traceparent`, `tracestate`), or undefined, quickly, when no SDK is
 * registered or no span is active. See {@link injectTraceContext}.
 */
export function traceContextHeaders(): Record<string, string> | undefined {
  const api = otel();
  if (!api?.context || !api.propagation) return undefined;
  const active = api.context.active();
  if (active.getValue(SPAN_KEY) === undefined) return undefined;
  const carrier: Record<string, string> = {};
  api.propagation.inject(active, carrier, setter);
  return carrier;
}

/**
 * Returns the OpenTelemetry context carried by an event's headers (the
 * reverse of {@link injectTraceContext}), to parent a consumer's or replay
 * reader's span; undefined when the application registered no
 * OpenTelemetry SDK. The value is an OpenTelemetry `Context`.
 */
export function extractTraceContext(headers: Record<string, string>): unknown {
  const api = otel();
  if (!api?.context || !api.propagation) return undefined;
  return api.propagation.extract(api.context.active(), headers, getter);
}
