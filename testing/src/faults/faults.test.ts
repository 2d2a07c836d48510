import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clockSkewSupport,
  createFaultSchedule,
  mountSmallDisk,
  skewedClock,
  smallDiskSupport,
  startFaultNetwork,
  startFaultyCluster,
  startLocalServer,
  type FaultNetwork,
} from "../index.js";

/** An echo server on a free loopback port. */
async function echoServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => {
    s.on("error", () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as AddressInfo).port, server };
}

/** Sends `text` and resolves with the echo, or with undefined after `ms`. */
function echo(socket: Socket, text: string, ms = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = "";
    const timer = setTimeout(() => {
      socket.off("data", onData);
      resolve(undefined);
    }, ms);
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
    socket.write(text);
  });
}

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = tcpConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
    s.on("error", () => undefined);
  });

/** Whether a connection to `port` is refused: reset while connecting or closed right after. */
const refused = (port: number) =>
  open(port).then(
    (s) => new Promise<boolean>((r) => (s.destroyed ? r(true) : (s.once("close", () => r(true)), setTimeout(() => r(false), 1000)))),
    () => true,
  );

describe("fault network", () => {
  let net: FaultNetwork;
  let target: { port: number; server: Server };
  beforeAll(async () => {
    net = await startFaultNetwork();
    target = await echoServer();
  });
  afterAll(async () => {
    await net?.close();
    target?.server.close();
  });

  it("a dropped link holds traffic both ways and delivers it when healed; new connections hang until then", async () => {
    const port = await net.link("app", "db", target.port);
    const s = await open(port);
    expect(await echo(s, "one")).toBe("one");
    await net.cut("app", "db");
    expect(net.cuts()).toEqual([{ a: "app", b: "db", mode: "drop" }]);
    const held = echo(s, "two", 5000);
    const late = await open(port); // accepted, but nothing reaches the target
    expect(await echo(late, "three", 500)).toBeUndefined();
    let lateGot = "";
    late.on("data", (d: Buffer) => (lateGot += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    await net.heal("app", "db");
    expect(await held).toBe("two");
    await new Promise((r) => setTimeout(r, 300));
    expect(lateGot).toBe("three");
    s.destroy();
    late.destroy();
  });

  it("a rejected link resets open connections and refuses new ones; links of other pairs are untouched", async () => {
    const port = await net.link("app", "cache", target.port);
    const other = await net.link("worker", "cache", target.port);
    const s = await open(port);
    const w = await open(other);
    const closed = new Promise<string>((r) => s.once("close", () => r("closed")));
    await net.cut("app", "cache", "reject");
    expect(await closed).toBe("closed");
    expect(await refused(port)).toBe(true);
    expect(await echo(w, "still")).toBe("still");
    await net.healAll();
    expect(net.cuts()).toEqual([]);
    expect(await echo(await open(port), "back")).toBe("back");
    w.destroy();
  });

  it("a link opened while its pair is cut starts cut", async () => {
    await net.cut("late", "db");
    const port = await net.link("late", "db", target.port);
    expect(await echo(await open(port), "x", 500)).toBeUndefined();
    await net.heal("late", "db");
  });
});

describe("faulty cluster", () => {
  it("routes run only through links, clients learn no other address, and a node cut off loses its routes' traffic", { timeout: 90_000 }, async () => {
    await using cluster = await startFaultyCluster({ nodes: 3 });
    const routes = async () => {
      let n = 0;
      for (const s of cluster.servers) n += ((await (await fetch(`${s.monitorUrl}/routez`)).json()) as { num_routes: number }).num_routes;
      return n;
    };
    // every route connection is one accepted by a link (each counted by both of its nodes); routes that
    // nodes are still making (or dropping as duplicates) right after the start are waited out
    const active = async () => (await cluster.net.stats()).filter((l) => l.from.startsWith("n") && l.to.startsWith("n")).reduce((sum, l) => sum + l.active, 0);
    let counted = { routes: -1, links: 0 };
    for (const end = Date.now() + 15_000; counted.routes !== 2 * counted.links && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      counted = { routes: await routes(), links: await active() };
    }
    expect(counted.routes).toBe(2 * counted.links);
    expect(counted.links).toBeGreaterThan(0);
    const nc = await connect({ servers: (await cluster.clientUrls("app"))[0]! });
    expect(nc.info?.connect_urls ?? []).toEqual([]);
    await nc.close();

    await cluster.net.isolate("n1", ["n2", "n3"]);
    const before = (await cluster.net.stats()).filter((l) => l.from === "n1" || l.to === "n1").map((l) => l.bytes);
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await cluster.net.stats()).filter((l) => l.from === "n1" || l.to === "n1").map((l) => l.bytes);
    expect(after).toEqual(before);
    await cluster.pause("n2");
    expect([...cluster.paused]).toEqual(["n2"]);
    await cluster.healAll();
    expect([...cluster.paused]).toEqual([]);
    expect(cluster.net.cuts()).toEqual([]);
  });
});

describe("link overhead", () => {
  it("10,000 acknowledged publishes through a link against the same straight to the server (printed as a ratio)", { timeout: 120_000 }, async () => {
    await using server = await startLocalServer();
    await using net = await startFaultNetwork();
    const linked = `nats://127.0.0.1:${await net.link("bench", server.name, server.port)}`;
    const setup = await connect({ servers: server.url });
    await (await jetstreamManager(setup)).streams.add({ name: "bench", subjects: ["bench.>"] });
    await setup.close();
    const run = async (url: string) => {
      const nc = await connect({ servers: url });
      const js = jetstream(nc);
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 1000 }, (_, j) => js.publish("bench.x", "x", { msgID: `${url}-${i}-${j}` })));
      const ms = performance.now() - t0;
      await nc.close();
      return 10_000 / (ms / 1000);
    };
    const rates = { direct: [] as number[], link: [] as number[] };
    for (let round = 0; round < 3; round++) {
      rates.direct.push(await run(server.url));
      rates.link.push(await run(linked));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    const ratio = median(rates.link) / median(rates.direct);
    console.log(
      `through a link: ${Math.round(median(rates.link))} events/s against ${Math.round(median(rates.direct))} straight to the server (${ratio.toFixed(2)}x; medians of 3, 1,000 in flight)`,
    );
    expect(ratio).toBeGreaterThan(0.2);
  });
});

describe("fault schedules", () => {
  const options = { seed: 42, durationMs: 120_000, nodes: ["n1", "n2", "n3"], clients: ["producer"] };
  it("the same seed gives the same schedule, another seed another one", () => {
    expect(createFaultSchedule(options)).toEqual(createFaultSchedule(options));
    expect(createFaultSchedule({ ...options, seed: 43 })).not.toEqual(createFaultSchedule(options));
  });
  it("never more faults at once than allowed, never two on one node", () => {
    const steps = createFaultSchedule({ ...options, maxConcurrent: 2 });
    expect(steps.length).toBeGreaterThan(10);
    for (const s of steps) {
      const active = steps.filter((o) => o.at <= s.at && o.at + o.durationMs > s.at);
      expect(active.length).toBeLessThanOrEqual(2);
      expect(new Set(active.map((o) => o.node)).size).toBe(active.length);
    }
  });
});

const disk = smallDiskSupport();
describe.skipIf(!disk.ok)("small disk", () => {
  it("fills to the last byte and frees again", async () => {
    await using d = mountSmallDisk({ sizeBytes: 2 << 20 });
    d.fill();
    expect(d.usage().available).toBe(0);
    expect(() => writeFileSync(join(d.dir, "more"), Buffer.alloc(8192))).toThrow(/ENOSPC/);
    d.free();
    expect(d.usage().available).toBeGreaterThan(1 << 20);
  });
});

const clock = clockSkewSupport();
describe.skipIf(!clock.ok)("skewed clock", () => {
  it("moves a child's wall clock, and moves it again while it runs, leaving its monotonic clock alone", () => {
    using c = skewedClock(-3600_000);
    const script = "console.log(Date.now() - Number(process.argv[1]))";
    const run = () => Number(execFileSync(process.execPath, ["-e", script, String(Date.now())], { env: { ...process.env, ...c.env } }).toString());
    expect(Math.abs(run() + 3600_000)).toBeLessThan(5000);
    c.set(+120_000);
    expect(Math.abs(run() - 120_000)).toBeLessThan(5000);
    expect(existsSync(c.env["FAKETIME_TIMESTAMP_FILE"]!)).toBe(true);
  });
});
