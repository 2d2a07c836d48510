// Spans and metrics as an application sees them: the OpenTelemetry SDK
// registered globally, its in-memory exporters, a real server.
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, createProducer, ensureStream, isChronicleError, startConsumerGroup, type PublishResult } from "../index.js";
import { testStream } from "../streams/test-fixtures.js";
import { HeaderText } from "../wire/header-text.js";
import { startProcessSpan } from "./process-span.js";

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});

afterAll(async () => {
  await reader.shutdown();
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

beforeEach(() => {
  spans.reset();
  metricExporter.reset();
});

/** Every metric exported so far, by name. */
async function exportedMetrics(): Promise<Map<string, MetricData>> {
  await reader.forceFlush();
  const byName = new Map<string, MetricData>();
  for (const resource of metricExporter.getMetrics())
    for (const scope of resource.scopeMetrics) for (const m of scope.metrics) byName.set(m.descriptor.name, m);
  return byName;
}

const spansNamed = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("OpenTelemetry, publish side", () => {
  it("records a publish span per event, a child of the caller's span, whose context the stored event carries; failures end it with the error", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "traced", partitions: 4 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const tracer = trace.getTracer("app");
    const results = await tracer.startActiveSpan("checkout", async (parent) => {
      try {
        return await Promise.all([producer.publish("OrderPlaced", { orderId: "o-1" }), producer.publish("OrderShipped", { orderId: "o-2", carrier: "ups" })]);
      } finally {
        parent.end();
      }
    });
    const missing = createProducer(conn, testStream({ name: "missing" }));
    await expect(missing.publish("OrderPlaced", { orderId: "x" })).rejects.toSatisfy((e) => isChronicleError(e, "not_found"));
    await missing.close();
    const untraced = createProducer(conn, def, { tracing: false });
    await untraced.publish("OrderPlaced", { orderId: "o-3" });
    await Promise.all([producer.close(), untraced.close()]);

    const [checkout] = spansNamed("checkout");
    const published = spansNamed("publish traced");
    expect(published).toHaveLength(2);
    for (const [i, span] of published
      .sort((a, b) => a.attributes["messaging.message.id"]!.toString().localeCompare(b.attributes["messaging.message.id"]!.toString()))
      .entries()) {
      const r = [...results].sort((a, b) => a.id.localeCompare(b.id))[i]!;
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.spanContext().traceId).toBe(checkout!.spanContext().traceId);
      expect(parentOf(span)).toBe(checkout!.spanContext().spanId);
      expect(span.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": "traced",
        "messaging.destination.partition.id": String(r.partition),
        "messaging.message.id": r.id,
      });
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      // the stored event carries the publish span's context
      const stored = (await conn.jsm.streams.getMessage("traced", { seq: r.sequence }))!;
      expect(stored.header.get("traceparent")).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    }
    expect(published.map((s) => s.attributes["chronicle.event.type"]).sort()).toEqual(["test.v1.OrderPlaced", "test.v1.OrderShipped"]);
    const [failed] = spansNamed("publish missing");
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed!.attributes["error.type"]).toBe("not_found");
    const untracedEvent = (await conn.jsm.streams.getMessage("traced", { seq: 3 }))!;
    expect(untracedEvent.header.get("traceparent")).toBe("");

    const m = await exportedMetrics();
    const sent = m.get("messaging.client.sent.messages")!;
    const byOutcome = (attrs: Record<string, unknown>) => sent.dataPoints.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))?.value;
    expect(byOutcome({ "messaging.destination.name": "traced", "error.type": undefined })).toBe(3);
    expect(byOutcome({ "messaging.destination.name": "missing", "error.type": "not_found" })).toBe(1);
    const duration = m.get("messaging.client.operation.duration")!;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.descriptor.unit).toBe("s");
    const tracedDurations = duration.dataPoints.find(
      (p) => p.attributes["messaging.destination.name"] === "traced" && p.attributes["error.type"] === undefined,
    );
    expect((tracedDurations!.value as { count: number }).count).toBe(3);
  });
});

describe("process spans", () => {
  it("link to the producer's span instead of continuing its trace when asked, and end with the handler's error", () => {
    const producer = trace.getTracer("app").startSpan("publish x");
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), producer), carrier);
    producer.end();
    const delivery = { stream: "s", group: "g", partition: 1, type: "t", id: "i", deliveryCount: 2, bodySize: 3, headers: HeaderText.of(carrier) };
    startProcessSpan(delivery, "link")!.end(new Error("boom"));
    const [linked] = spansNamed("process s");
    expect(linked!.parentSpanContext).toBeUndefined();
    expect(linked!.links.map((l) => l.context.spanId)).toEqual([producer.spanContext().spanId]);
    expect(linked!.status.code).toBe(SpanStatusCode.ERROR);
    expect(linked!.attributes).toMatchObject({ "error.type": "Error", "chronicle.delivery.count": 2, "messaging.message.body.size": 3 });
  });
});

describe("OpenTelemetry, publish and handle", () => {
  it("a handler's process span is a child of the event's publish span; the member's counters, handler durations and lag reach the meter", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = testStream({ name: "roundtrip", partitions: 2 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const published: PublishResult[] = [];
    for (let i = 0; i < 6; i++) published.push(await producer.publish("OrderPlaced", { orderId: `k${i % 3}`, n: BigInt(i) }));
    await producer.close();
    let handled = 0;
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      onError: () => undefined,
      handlers: {
        OrderPlaced: async () => {
          // the handler's own work: a span of the active trace, which the member's process span holds
          trace.getTracer("app").startActiveSpan("write projection", (s) => s.end());
          handled++;
        },
        OrderShipped: async () => undefined,
      },
    });
    const deadline = Date.now() + 20_000;
    while ((handled < 6 || Object.keys(member.metrics().lag).length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const m = await exportedMetrics();
    await member.stop();

    const publishSpans = spansNamed("publish roundtrip");
    const processSpans = spansNamed("process roundtrip");
    expect(processSpans).toHaveLength(6);
    for (const p of processSpans) {
      const id = p.attributes["messaging.message.id"];
      const pub = publishSpans.find((s) => s.attributes["messaging.message.id"] === id)!;
      expect(p.kind).toBe(SpanKind.CONSUMER);
      expect(p.spanContext().traceId).toBe(pub.spanContext().traceId);
      expect(parentOf(p)).toBe(pub.spanContext().spanId);
      expect(p.attributes).toMatchObject({
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": "g",
        "messaging.destination.partition.id": String(published.find((r) => r.id === id)!.partition),
      });
      const child = spansNamed("write projection").find((s) => parentOf(s) === p.spanContext().spanId);
      expect(child).toBeDefined();
    }

    const group = { "messaging.destination.name": "roundtrip", "messaging.consumer.group.name": "g" };
    const handledPoint = m.get("chronicle.consumer.handled")!.dataPoints.find((p) => Object.entries(group).every(([k, v]) => p.attributes[k] === v));
    expect(handledPoint?.value).toBe(6);
    const durations = m.get("messaging.process.duration")!;
    expect(durations.descriptor.unit).toBe("s");
    expect((durations.dataPoints[0]!.value as { count: number }).count).toBe(6);
    const lag = m.get("chronicle.consumer.lag")!.dataPoints.map((p) => [p.attributes["messaging.destination.partition.id"], p.value]);
    expect(lag.sort()).toEqual([
      ["0", 0],
      ["1", 0],
    ]);
  });
});
