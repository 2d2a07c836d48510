import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ChronicleError, connect } from "./index.js";
import { ensureNatsServer, startFaultNetwork, startLocalServer } from "@chronicle/testing";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("connect", () => {
  it("connects to JetStream and closes cleanly", async () => {
    await using server = await startLocalServer();
    const conn = await connect({ servers: server.url, name: "t" });
    expect((await conn.jsm.getAccountInfo()).streams).toBe(0);
    await conn.close();
    expect(conn.nc.isClosed()).toBe(true);
  });

  it("says unavailable, naming the URL, when no server listens", async () => {
    const port = await freePort();
    const err = await connect({ servers: `nats://127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleError);
    expect((err as ChronicleError).code).toBe("unavailable");
    expect((err as ChronicleError).message).toContain(`127.0.0.1:${port}`);
  });

  it("says permission_denied for rejected credentials, and invalid_argument for an unknown wire before connecting", async () => {
    await using server = await startLocalServer({ extraConfig: "authorization { user: app, password: secret }" });
    const denied = await connect({ servers: server.url, user: "app", pass: "wrong" }).catch((e: unknown) => e);
    expect((denied as ChronicleError).code).toBe("permission_denied");
    await using ok = await connect({ servers: server.url, user: "app", pass: "secret" });
    expect(ok.nc.isClosed()).toBe(false);
    const bad = await connect({ servers: server.url, wire: "fast" as never }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "invalid_argument", context: { option: "wire" } });
  });

  it("notices a server that stops answering (a black hole) within about (maxPingsOut + 1) pings, and reconnects once it answers again", async () => {
    await using server = await startLocalServer();
    await using net = await startFaultNetwork();
    const port = await net.link("client", "server", Number(new URL(server.url).port));
    await using conn = await connect({ servers: `nats://127.0.0.1:${port}`, pingIntervalMs: 300, maxPingsOut: 2, connectTimeoutMs: 1000 });
    const events: { type: string; at: number }[] = [];
    void (async () => {
      for await (const s of conn.nc.status()) events.push({ type: s.type, at: performance.now() });
    })();
    await net.cut("client", "server"); // nothing refused: only pings can tell
    const cutAt = performance.now();
    const deadline = cutAt + 10_000;
    while (!events.some((e) => e.type === "disconnect") && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const disconnect = events.find((e) => e.type === "disconnect");
    expect(disconnect, "the dead connection noticed within 10 s").toBeDefined();
    const noticedMs = disconnect!.at - cutAt;
    console.log(`black hole noticed after ${Math.round(noticedMs)} ms (ping every 300 ms, 2 out)`);
    // three ping intervals (900 ms), with room for a busy machine; nats.js's default would take minutes
    expect(noticedMs).toBeLessThan(5000);
    await net.heal("client", "server");
    await conn.nc.flush().catch(() => undefined);
    const back = performance.now() + 15_000;
    while (!events.some((e) => e.type === "reconnect") && performance.now() < back) await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.type)).toContain("reconnect");
    expect((await conn.jsm.getAccountInfo()).streams).toBe(0);
  });

  it("says invalid_argument, naming the option, for a ping interval, pings out or connect timeout that is not a positive integer", async () => {
    for (const option of ["pingIntervalMs", "maxPingsOut", "connectTimeoutMs"] as const) {
      for (const value of [0, -1, 1.5, Number.NaN]) {
        const err = await connect({ servers: "nats://127.0.0.1:1", [option]: value }).catch((e: unknown) => e);
        expect(err, `${option}=${value}`).toMatchObject({ code: "invalid_argument", context: { option } });
      }
    }
  });

  it("says the server has no JetStream, and how to enable it, for a plain NATS server", async () => {
    const port = await freePort();
    const child = spawn((await ensureNatsServer()).path, ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    try {
      let err: unknown;
      for (let i = 0; i < 50; i++) {
        err = await connect({ servers: `nats://127.0.0.1:${port}` }).catch((e: unknown) => e);
        if ((err as ChronicleError).message.includes("JetStream")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((err as ChronicleError).code).toBe("unavailable");
      expect((err as ChronicleError).message).toMatch(/has no JetStream \(enable it with -js/);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
