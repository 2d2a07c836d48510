import type { Context, Span, TextMapGetter } from "@opentelemetry/api";
import type { HeaderReader } from "../layout/headers.js";
import { INSTRUMENTATION_SCOPE, otel } from "./otel-api.js";
import { errorTypeOf } from "./publish-telemetry.js";
import { Attr, MESSAGING_SYSTEM, OperationType } from "./semconv.js";

/** A delivery's headers, one name at a time, and (for propagators that scan them) all of them. */
export interface DeliveryHeaderReader extends HeaderReader {
  all?(): Record<string, string>;
}

/** What a process span records about the delivery it handles. */
export interface ProcessedDelivery {
  /** The stream, `messaging.destination.name`. */
  readonly stream: string;
  /** The consumer group, `messaging.consumer.group.name`. */
  readonly group: string;
  readonly partition: number;
  /** The event's type (`ce-type`). */
  readonly type: string;
  /** The event id (`ce-id`), `messaging.message.id`. */
  readonly id: string;
  /** 1 for a first delivery. */
  readonly deliveryCount: number;
  readonly bodySize: number;
  /** The delivery's headers, where the producer's trace context travels. */
  readonly headers: DeliveryHeaderReader;
}

/** How a process span relates to the publish span of its event. */
export type ProducerRelation = "parent" | "link";

/**
 * The span of one delivery's processing (a handler run). End it once;
 * {@link run} makes it the active span for what the handler does, so that
 * the handler's own spans (a database write, an HTTP call) are its children.
 */
export interface ProcessSpan {
  run<T>(fn: () => T): T;
  /** Ends the span: successfully, or with the error the handler threw. */
  end(error?: unknown): void;
}

const readerGetter: TextMapGetter<DeliveryHeaderReader> = {
  get: (carrier, key) => carrier.get(key),
  keys: (carrier) => Object.keys(carrier.all?.() ?? {}),
};

class OtelProcessSpan implements ProcessSpan {
  private readonly context: Context;
  constructor(private readonly span: Span) {
    this.context = otel!.trace.setSpan(otel!.context.active(), span);
  }
  run<T>(fn: () => T): T {
    return otel!.context.with(this.context, fn);
  }
  end(error?: unknown): void {
    if (error !== undefined && this.span.isRecording()) {
      this.span.setAttribute(Attr.ErrorType, errorTypeOf(error));
      if (error instanceof Error) this.span.recordException(error);
      this.span.setStatus({ code: otel!.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    this.span.end();
  }
}

/**
 * Starts the `process` span (kind CONSUMER, named `process <stream>`) of
 * one delivery, per the OpenTelemetry messaging conventions: with
 * `relation: "parent"` (the default) a child of the publish span whose
 * context the event carries, so that publish and handling are one trace;
 * with `"link"`, a span of the active trace linked to it. Undefined when
 * `@opentelemetry/api` is not installed or nothing would record the span:
 * callers then run the handler as is.
 */
export function startProcessSpan(delivery: ProcessedDelivery, relation: ProducerRelation = "parent"): ProcessSpan | undefined {
  if (otel === undefined) return undefined;
  const tracer = otel.trace.getTracer(INSTRUMENTATION_SCOPE.name, INSTRUMENTATION_SCOPE.version);
  const producer = otel.propagation.extract(otel.ROOT_CONTEXT, delivery.headers, readerGetter);
  const producerSpan = otel.trace.getSpanContext(producer);
  const linked = producerSpan !== undefined && otel.isSpanContextValid(producerSpan);
  const span = tracer.startSpan(
    `process ${delivery.stream}`,
    { kind: otel.SpanKind.CONSUMER, ...(relation === "link" && linked ? { links: [{ context: producerSpan }] } : {}) },
    relation === "parent" && linked ? producer : otel.context.active(),
  );
  if (!span.isRecording()) {
    span.end();
    return undefined;
  }
  span.setAttributes({
    [Attr.MessagingSystem]: MESSAGING_SYSTEM,
    [Attr.MessagingOperationType]: OperationType.Process,
    [Attr.MessagingOperationName]: "process",
    [Attr.MessagingDestinationName]: delivery.stream,
    [Attr.MessagingDestinationPartitionId]: String(delivery.partition),
    [Attr.MessagingConsumerGroupName]: delivery.group,
    [Attr.MessagingMessageId]: delivery.id,
    [Attr.MessagingMessageBodySize]: delivery.bodySize,
    [Attr.EventType]: delivery.type,
    [Attr.DeliveryCount]: delivery.deliveryCount,
  });
  return new OtelProcessSpan(span);
}
