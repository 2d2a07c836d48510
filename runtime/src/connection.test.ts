import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ChronicleError, connect } from "./index.js";
import { ensureNatsServer, startLocalServer } from "@chronicle/testing";

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
