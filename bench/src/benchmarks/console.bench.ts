import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { consoleApi, DEFAULT_WEB_DIR, ensureWebBuilt } from "@chronicle/console";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { connect, createProducer, ensureStream, startConsumerGroup, type ChronicleConnection, type StreamDefinition } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { ensureChromium, launchBrowser } from "../../../console/src/testing/browser.js";
import { ORDER_PLACED, orderPlacedDesc, orderPlacedV1, orderStream } from "../../../console/src/testing/shop-schema.js";
import { percentile, perSecond, type Benchmark, type Measurement } from "../harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => percentile(xs, 50);
const round = (ms: number) => Math.round(ms * 100) / 100;

function ordersDef(name: string, partitions: number, schemaId: string): StreamDefinition {
  return orderStream(name, partitions, schemaId);
}

async function fill(conn: ChronicleConnection, def: StreamDefinition, count: number, keys: number): Promise<void> {
  await ensureStream(conn, def);
  const p = createProducer(conn, def);
  const desc = orderPlacedDesc(orderPlacedV1);
  for (let i = 0; i < count; i += 5000) {
    await p.publishBatch(
      Array.from({ length: Math.min(5000, count - i) }, (_, j) => ({
        name: "OrderPlaced",
        event: create(desc, { orderId: `o-${(i + j) % keys}`, totalCents: BigInt(i + j), note: "bench" }),
        options: { headers: (i + j) % 100 === 0 ? { tenant: "blue" } : {} },
      })),
    );
  }
  await p.close();
}

const ROOT = new URL("../../../", import.meta.url).pathname;

/**
 * Starts `chronicle console` as users run it: its own process (the compiled
 * CLI, or the sources under --from-source), read-only for anyone on
 * loopback. Resolves with its URL and the process.
 */
async function startConsoleProcess(nats: string, registry: string): Promise<{ url: string; child: ChildProcess }> {
  const entry = process.env["CHRONICLE_BENCH_FROM_SOURCE"] ? ["--import", "tsx", "--conditions=@chronicle/source", "cli/src/bin.ts"] : ["cli/dist/bin.js"];
  const child = spawn(process.execPath, [...entry, "console", "--servers", nats, "--registry", registry, "--anonymous-read", "--port", "0", "--json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`chronicle console exited with ${code}`)));
  });
  return { url: (JSON.parse(line) as { console: string }).console, child };
}

/** Milliseconds of each call, `n` times one after the other. */
async function timeCalls(n: number, call: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    out.push(performance.now() - t);
  }
  return out;
}

const bench: Benchmark = {
  name: "console",
  description:
    "Chronicle Console: first page load in chromium with a cold cache, a page of 100 decoded events from a 1,000,000-event stream, list API p99, and the cost of a live lag view on a group",
  async run(ctx) {
    const out: Measurement[] = [];
    ensureWebBuilt((l) => ctx.log(l));

    // bundle size: every file of the built UI, as sent (gzip) and raw
    const files = readdirSync(join(DEFAULT_WEB_DIR, "assets")).map((f) => join(DEFAULT_WEB_DIR, "assets", f));
    const raw = files.reduce((a, f) => a + statSync(f).size, 0);
    const gz = files.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    out.push({
      name: "web UI bundle (JS + CSS), gzip as served",
      value: Math.round(gz / 1024),
      unit: "KiB",
      note: `${Math.round(raw / 1024)} KiB before compression; React 19, connect-web, protobuf-es`,
    });

    await using nats = await startLocalServer();
    await using registryServer = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    using registry = createRegistryClient({ baseUrl: registryServer.url });
    const schemaId = (await registry.register(ORDER_PLACED, orderPlacedV1)).id;
    await using conn = await connect({ servers: nats.url });
    const { url: consoleUrl, child } = await startConsoleProcess(nats.url, registryServer.url);
    await using _stop = { [Symbol.asyncDispose]: async () => void child.kill("SIGINT") };
    const server = { url: consoleUrl };
    const api = createClient(consoleApi.OperationsService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }));

    // first page load, cold cache: a fresh browser profile each time, until the schema list is on screen
    const chromium = ensureChromium();
    if ("path" in chromium) {
      const blank = http.createServer((_, res) =>
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>x</title><p id=ready>ready</p>"),
      );
      await new Promise<void>((r) => blank.listen(0, "127.0.0.1", r));
      const blankUrl = `http://127.0.0.1:${(blank.address() as AddressInfo).port}/`;
      const loads: number[] = [];
      const blanks: number[] = [];
      for (let i = 0; i < (ctx.quick ? 2 : 5); i++) {
        for (const [url, selector, into] of [
          [`${server.url}/#/schemas`, "[data-testid=subjects]", loads],
          [blankUrl, "#ready", blanks],
        ] as const) {
          await using browser = await launchBrowser(chromium.path);
          const page = await browser.newPage();
          // the browser's own start is not the page's: time from the navigation's start (the page's time origin) to the content shown, cache empty
          await page.goto(url);
          await page.locator(selector).waitFor();
          into.push(await page.evaluate(() => performance.now()));
        }
      }
      blank.close();
      out.push({
        name: "first page load, cold cache, until the schema list shows",
        value: round(median(loads)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "a one-line HTML page from a bare node:http server, same browser", value: round(median(blanks)) },
        note: "target < 1000 ms; from navigation start, median of fresh profiles",
      });
    } else ctx.log(`page load skipped: ${chromium.missing}`);

    // the message browser over a large stream
    const total = ctx.quick ? 50_000 : 1_000_000;
    const big = ordersDef("bench_big", 16, schemaId);
    let t0 = performance.now();
    await fill(conn, big, total, 100_000);
    ctx.log(`filled ${total} events in ${Math.round(performance.now() - t0)} ms`);
    const mid = BigInt(Math.floor(total / 2));
    const rawPage = await timeCalls(ctx.quick ? 5 : 20, async () => {
      const it = await conn.jsm.direct.getBatch("bench_big", { seq: Number(mid), batch: 100 } as never);
      for await (const m of it) void m;
    });
    const reqs: [string, Parameters<typeof api.browseMessages>[0]][] = [
      ["newest page", { stream: "bench_big", newest: true, limit: 100 }],
      ["page from the middle", { stream: "bench_big", fromSequence: mid, limit: 100 }],
      ["one partition, from the middle", { stream: "bench_big", partition: 5, fromSequence: mid, limit: 100 }],
      ["one key (10 events in the stream), newest", { stream: "bench_big", key: "o-4242", newest: true, limit: 100 }],
      ["a header filter (1 event in 100), from the middle", { stream: "bench_big", headerName: "tenant", headerValue: "blue", fromSequence: mid, limit: 100 }],
    ];
    for (const [label, req] of reqs) {
      const samples = await timeCalls(ctx.quick ? 5 : 20, () => api.browseMessages(req));
      const page = await api.browseMessages(req);
      out.push({
        name: `message browser, ${label}, ${total.toLocaleString("en-US")} events`,
        value: round(median(samples)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "raw direct get of 100 messages, no decoding", value: round(median(rawPage)) },
        note: `${page.events.length} decoded events, ${page.scanned} read; p99 ${round(percentile(samples, 99))} ms; target < 500 ms`,
      });
    }

    // list pages' API p99, beside the raw call each one wraps
    const n = ctx.quick ? 30 : 200;
    const lists: [string, () => Promise<unknown>, string, () => Promise<unknown>][] = [
      [
        "ListStreams",
        () => api.listStreams({}),
        "jsm.streams.list()",
        async () => {
          for await (const s of conn.jsm.streams.list()) void s;
        },
      ],
      [
        "ListGroups",
        () => api.listGroups({}),
        "jsm.streams.names()",
        async () => {
          for await (const s of conn.jsm.streams.names()) void s;
        },
      ],
      ["ListSchemaSubjects", () => api.listSchemaSubjects({}), "registry listSubjects", () => registry.listSubjects()],
      [
        "ListAudit",
        () => api.listAudit({}),
        "jsm.streams.names()",
        async () => {
          for await (const s of conn.jsm.streams.names()) void s;
        },
      ],
    ];
    for (const [name, call, baseName, base] of lists) {
      const samples = await timeCalls(n, call);
      const baseSamples = await timeCalls(n, base);
      out.push({
        name: `API p99, ${name}`,
        value: round(percentile(samples, 99)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: `raw ${baseName} p99`, value: round(percentile(baseSamples, 99)) },
        note: `target < 50 ms; p50 ${round(percentile(samples, 50))} ms`,
      });
    }

    // a live lag view's cost: a group draining a backlog with a watcher polling it every second, beside the same group unwatched
    const backlog = ctx.quick ? 20_000 : 100_000;
    const lagDef = ordersDef("bench_lag", 16, schemaId);
    await fill(conn, lagDef, backlog, 5000);
    const drain = async (group: string, watch: boolean): Promise<{ rate: number; updates: number; maxGapMs: number }> => {
      let handled = 0;
      let first = 0;
      let last = 0;
      const ac = new AbortController();
      const stamps: number[] = [];
      const member = await startConsumerGroup(conn, lagDef, {
        group,
        onError: () => undefined,
        handlers: {
          OrderPlaced: async () => {
            if (handled++ === 0) first = performance.now();
            if (handled === backlog) last = performance.now();
          },
        },
      });
      const watching = watch
        ? (async () => {
            try {
              for await (const m of api.watchGroup({ stream: "bench_lag", group }, { signal: ac.signal }))
                if (m.snapshots.length) stamps.push(performance.now());
            } catch {
              // aborted
            }
          })()
        : Promise.resolve();
      const deadline = Date.now() + 120_000;
      while (handled < backlog && Date.now() < deadline) await sleep(5);
      ac.abort();
      await watching;
      await member.stop();
      const during = stamps.filter((s) => s >= first && s <= last);
      const gaps = during.slice(1).map((s, i) => s - during[i]!);
      return { rate: perSecond(backlog - 1, last - first), updates: during.length, maxGapMs: gaps.length ? Math.max(...gaps) : 0 };
    };
    let bare = 0;
    let watched = 0;
    let gap = 0;
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      const a = await drain(`bare${r}`, false);
      const b = await drain(`watched${r}`, true);
      bare = Math.max(bare, a.rate);
      watched = Math.max(watched, b.rate);
      gap = Math.max(gap, b.maxGapMs);
      ctx.log(`round ${r + 1}: unwatched ${a.rate}/s, watched ${b.rate}/s (${b.updates} lag updates, longest gap ${Math.round(b.maxGapMs)} ms)`);
    }
    out.push({
      name: "group throughput with a console watching its lag",
      value: watched,
      unit: "events/s",
      baseline: { name: "the same group, nobody watching", value: bare },
      note: "target >= 0.95x; best of rounds, alternating",
    });

    // updates while the group consumes 20,000 events/s
    const steadyDef = ordersDef("bench_steady", 16, schemaId);
    await ensureStream(conn, steadyDef);
    const member = await startConsumerGroup(conn, steadyDef, { group: "steady", onError: () => undefined, handlers: { OrderPlaced: async () => {} } });
    const ac = new AbortController();
    const stamps: number[] = [];
    const watching = (async () => {
      try {
        for await (const m of api.watchGroup({ stream: "bench_steady", group: "steady" }, { signal: ac.signal }))
          if (m.snapshots.length) stamps.push(performance.now());
      } catch {
        // aborted
      }
    })();
    const seconds = ctx.quick ? 3 : 10;
    const producer = createProducer(conn, steadyDef);
    const desc = orderPlacedDesc(orderPlacedV1);
    t0 = performance.now();
    const start = performance.now();
    for (let i = 0; i < 20_000 * seconds; i += 200) {
      const due = start + (i / 20_000) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      void producer.publishBatch(Array.from({ length: 200 }, (_, j) => ({ name: "OrderPlaced", event: create(desc, { orderId: `k${(i + j) % 1000}` }) })));
    }
    await producer.close();
    const sent = performance.now() - t0;
    const window = stamps.filter((s) => s >= t0 + 1000 && s <= t0 + sent);
    const gaps = window.slice(1).map((s, i) => s - window[i]!);
    ac.abort();
    await watching;
    await member.stop();
    out.push({
      name: "lag view updates while the group consumes 20,000 events/s",
      value: round(window.length / ((sent - 1000) / 1000)),
      unit: "updates/s",
      note: `longest gap between updates ${Math.round(gaps.length ? Math.max(...gaps) : 0)} ms; target >= 1/s (a poll a second per watched group)`,
    });
    return out;
  },
};

export default bench;
