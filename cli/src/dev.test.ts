import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

const bin = new URL("./bin.ts", import.meta.url).pathname;

describe("chronicle dev", () => {
  it("starts a local NATS with data in the given folder, prints its URL, and stops cleanly on SIGINT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-dev-"));
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", bin, "dev", "--port", "0", "--data", dir, "--json"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const line = await new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          if (buf.includes("\n")) resolve(buf.split("\n")[0]!);
        });
        child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      const info = JSON.parse(line) as { nats: string; data: string; console: string };
      expect(info.nats).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(info.data).toBe(dir);
      // the console, open to anyone on loopback
      expect(await (await fetch(`${info.console}/`)).text()).toContain("<title>Chronicle Console</title>");
      const session = await fetch(`${info.console}/chronicle.console.v1.OperationsService/GetSession`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(await session.json()).toMatchObject({ principal: "anonymous", role: "admin" });
      const nc = await connect({ servers: info.nats });
      await nc.close();
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
