// docs/observability.md's setups, run: the OpenTelemetry Node SDK sending
// Chronicle's spans and metrics over OTLP/HTTP to a receiver on loopback,
// and serving its metrics to a Prometheus scrape. The page's code blocks
// marked `<!-- quoted from runtime/src/telemetry/observability-docs.test.ts -->`
// must appear in this file, line for line (indentation aside).
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { createServer as createTcpServer } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, createProducer, ensureStream } from "../index.js";
import { testStream } from "../streams/test-fixtures.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const PAGE = "docs/observability.md";
const THIS_FILE = "runtime/src/telemetry/observability-docs.test.ts";

/** A free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createTcpServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `lines` without the indentation they all share. */
function dedent(lines: string[]): string[] {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent));
}

/** True when `needle` appears in `haystack` as consecutive lines, indentation aside. */
function containsBlock(haystack: string[], needle: string[]): boolean {
  const want = dedent(needle);
  for (let i = 0; i + want.length <= haystack.length; i++) {
    const window = dedent(haystack.slice(i, i + want.length));
    if (want.every((l, j) => window[j] === l)) return true;
  }
  return false;
}

/** An OTLP/HTTP receiver on loopback: the JSON bodies posted to each path. */
async function startReceiver(): Promise<{ url: string; bodies: Map<string, unknown[]>; close(): Promise<void> }> {
  const bodies = new Map<string, unknown[]>();
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (data += chunk));
      req.on("end", () => resolve(data));
    });
  const server = createServer((req, res) => {
    void read(req).then((body) => {
      bodies.set(req.url!, [...(bodies.get(req.url!) ?? []), JSON.parse(body) as unknown]);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Publishes a few events through a producer made after the SDK started. */
async function publishSome(servers: string): Promise<void> {
  await using conn = await connect({ servers });
  const def = testStream({ name: "orders", partitions: 4 });
  await ensureStream(conn, def);
  const producer = createProducer(conn, def);
  await Promise.all([1, 2, 3].map((n) => producer.publish("OrderPlaced", { orderId: `o-${n}` })));
  await producer.close();
}

afterEach(() => {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_TRACES_EXPORTER;
});

describe(PAGE, () => {
  it("quotes code of this file", () => {
    const page = readFileSync(`${root}${PAGE}`, "utf8");
    const re = /<!-- quoted from (\S+) -->\n```\w*\n([\s\S]*?)\n```/g;
    const file = readFileSync(`${root}${THIS_FILE}`, "utf8").split("\n");
    let blocks = 0;
    for (let m = re.exec(page); m; m = re.exec(page)) {
      expect(m[1]).toBe(THIS_FILE);
      expect(containsBlock(file, m[2]!.split("\n")), `a block of ${PAGE} no longer matches ${THIS_FILE}:\n${m[2]}`).toBe(true);
      blocks++;
    }
    expect(blocks).toBeGreaterThanOrEqual(2);
  });

  it("sends publish spans and producer metrics to an OTLP collector", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    const receiver = await startReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const sdk = new NodeSDK({
      serviceName: "checkout",
      traceExporter: new OTLPTraceExporter(),
      metricReaders: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })],
    });
    sdk.start();
    try {
      await publishSome(server.url);
    } finally {
      await sdk.shutdown(); // flushes what is left
      await receiver.close();
    }
    const text = JSON.stringify(receiver.bodies.get("/v1/traces"));
    expect(text.match(/"name":"publish orders"/g)).toHaveLength(3);
    expect(text).toContain('"key":"messaging.destination.name","value":{"stringValue":"orders"}');
    expect(JSON.stringify(receiver.bodies.get("/v1/metrics"))).toContain('"name":"messaging.client.sent.messages"');
  });

  it("serves Chronicle's metrics to a Prometheus scrape", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    // the page's setup, on a free loopback port instead of 9464 on every interface, with no trace exporter
    const port = await freePort();
    process.env.OTEL_TRACES_EXPORTER = "none";
    const sdk = new NodeSDK({
      serviceName: "checkout",
      metricReaders: [new PrometheusExporter({ host: "127.0.0.1", port })],
    });
    sdk.start();
    try {
      await publishSome(server.url);
      const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(scrape).toMatch(/^messaging_client_sent_messages_total\{.*messaging_destination_name="orders".*\} 3/m);
      expect(scrape).toMatch(/^messaging_client_operation_duration_count\{.*\} 3/m);
    } finally {
      await sdk.shutdown();
    }
  });
});
