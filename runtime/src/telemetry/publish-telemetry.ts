import type { Context, Span, SpanContext, Tracer } from "@opentelemetry/api";
import { isChronicleError } from "../errors.js";
import { resolveMeter, type CounterLike, type HistogramLike, type MeterLike, type MetricAttributes } from "./meter.js";
import { INSTRUMENTATION_SCOPE, otel } from "./otel-api.js";
import { Attr, DURATION_BUCKETS_S, MESSAGING_SYSTEM, Metric, OperationType } from "./semconv.js";
import { traceHeadersOf } from "./trace-context.js";

/** What a publish span records about its event. */
export interface PublishedEvent {
  /** The event's type (`ce-type`). */
  readonly type: string;
  readonly partition: number;
  /** The event id (`ce-id`), `messaging.message.id`. */
  readonly id: string;
}

/** `error.type` of a failed operation: a Chronicle error's code, else the error's class name. */
export function errorTypeOf(error: unknown): string {
  if (isChronicleError(error)) return error.code;
  return error instanceof Error ? error.name : "unknown";
}

/**
 * The telemetry of one destination's publishes, per the OpenTelemetry
 * messaging conventions: a `send` span (kind PRODUCER, named
 * `publish <destination>`) per event, from the publish call to its
 * acknowledgement or failure, whose context the event carries in its
 * `traceparent` header; and the `messaging.client.sent.messages` counter and
 * `messaging.client.operation.duration` histogram. With `@opentelemetry/api`
 * absent, or no SDK registered, it costs a no-op call or two per event.
 */
export class PublishTelemetry {
  private readonly tracer: Tracer | undefined;
  private readonly sent: CounterLike | undefined;
  private readonly duration: HistogramLike | undefined;
  private readonly attributes: MetricAttributes;
  private readonly spanName: string;

  /**
   * @param destination `messaging.destination.name`: the stream (a dead-letter stream for dead letters).
   * @param tracing false: no spans and no trace context headers.
   */
  constructor(
    private readonly destination: string,
    tracing: boolean,
    meter?: MeterLike,
  ) {
    this.tracer = tracing ? otel?.trace.getTracer(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version) : undefined;
    this.spanName = `publish ${destination}`;
    this.attributes = {
      [Attr.MessagingSystem]: MESSAGING_SYSTEM,
      [Attr.MessagingDestinationName]: destination,
      [Attr.MessagingOperationName]: "publish",
    };
    const m = resolveMeter(meter);
    this.sent = m?.createCounter(Metric.SentMessages, { unit: "{message}", description: "Events published, by outcome" });
    this.duration = m?.createHistogram(Metric.OperationDuration, {
      unit: "s",
      description: "Publish to acknowledgement (or failure), retries included",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
  }

  /**
   * Starts the span of one event's publish, a child of the active context,
   * with `links` (the contexts of events this one stems from, for dead
   * letters); undefined when tracing is off or nothing would record it.
   */
  start(event: PublishedEvent, links?: readonly unknown[]): Span | undefined {
    const tracer = this.tracer;
    if (tracer === undefined || otel === undefined) return undefined;
    const parent = otel.context.active();
    const span = tracer.startSpan(
      this.spanName,
      {
        kind: otel.SpanKind.PRODUCER,
        ...(links?.length ? { links: links.flatMap((c) => linkTo(c)) } : {}),
      },
      parent,
    );
    if (!otel.isSpanContextValid(span.spanContext())) return undefined;
    if (span.isRecording()) {
      span.setAttributes({
        ...this.attributes,
        [Attr.MessagingOperationType]: OperationType.Send,
        [Attr.MessagingDestinationPartitionId]: String(event.partition),
        [Attr.MessagingMessageId]: event.id,
        [Attr.EventType]: event.type,
      });
    }
    return span;
  }

  /**
   * The trace context headers an event carries: its publish span's, or,
   * without one, the active span's (so that a trace crosses the stream even
   * when only the application traces). Undefined when tracing is off or
   * there is no context to carry.
   */
  traceHeaders(span: Span | undefined): Record<string, string> | undefined {
    if (this.tracer === undefined || otel === undefined) return undefined;
    const active = otel.context.active();
    return traceHeadersOf(span ? otel.trace.setSpan(active, span) : active);
  }

  /** Records a stored (or deduplicated) publish begun at `startedAt` (ms, `performance.now()`), and ends its span. */
  succeeded(span: Span | undefined, startedAt: number, bodySize: number): void {
    if (span) {
      if (span.isRecording()) span.setAttribute(Attr.MessagingMessageBodySize, bodySize);
      span.end();
    }
    this.sent?.add(1, this.attributes);
    this.duration?.record((performance.now() - startedAt) / 1000, this.attributes);
  }

  /** Records a publish begun at `startedAt` (ms, `performance.now()`) that failed for good, and ends its span with the error. */
  failed(span: Span | undefined, startedAt: number, error: Error): void {
    const type = errorTypeOf(error);
    if (span) {
      if (span.isRecording()) {
        span.setAttribute(Attr.ErrorType, type);
        span.recordException(error);
        span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    }
    const attributes = { ...this.attributes, [Attr.ErrorType]: type };
    this.sent?.add(1, attributes);
    this.duration?.record((performance.now() - startedAt) / 1000, attributes);
  }
}

/** A link to the span context in `ctx` (an OpenTelemetry `Context`), when it holds a valid one. */
function linkTo(ctx: unknown): { context: SpanContext }[] {
  if (otel === undefined || ctx === undefined) return [];
  const spanContext = otel.trace.getSpanContext(ctx as Context);
  return spanContext && otel.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}
