import { spawn, type ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { messageSet } from "../../../../registry/src/testing/schemas.js";

const bin = new URL("../../bin.ts", import.meta.url).pathname;
const TOKEN = "ci-token-0123456789abcdef";

function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcessByStdio<null, Readable, Readable>; line: Promise<string>; err: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const line = new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\n")) resolve(buf.split("\n")[0]!);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${err}`)));
  });
  line.catch(() => undefined); // a test that expects an early exit does not read it
  return { child, line, err: () => err };
}

async function stop(child: ChildProcessByStdio<null, Readable, Readable>): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  return exited;
}

describe("chronicle registry serve", () => {
  it("serves Connect JSON with tokens from the environment and never logs them", async () => {
    await using nats = await startLocalServer();
    const { child, line, err } = start(["registry", "serve", "--servers", nats.url, "--port", "0", "--anonymous-read", "--json"], {
      CHRONICLE_REGISTRY_TOKENS: `ci:write:${TOKEN}`,
    });
    const info = JSON.parse(await line) as { registry: string };
    expect(info.registry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const call = (method: string, body: unknown, token?: string) =>
      fetch(`${info.registry}/chronicle.registry.v1.RegistryService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const schema = Buffer.from(toBinary(FileDescriptorSetSchema, messageSet("acme.cli.v1.Done", [{ name: "id", number: 1 }]))).toString("base64");
    expect((await call("Register", { subject: "acme.cli.v1.Done", schema })).status).toBe(401);
    const reg = await call("Register", { subject: "acme.cli.v1.Done", schema }, TOKEN);
    expect(reg.status).toBe(200);
    expect(await reg.json()).toMatchObject({ version: 1, created: true });
    expect(await (await call("ListSubjects", {})).json()).toEqual({ subjects: ["acme.cli.v1.Done"] });
    expect(await stop(child)).toBe(0);
    expect(err()).not.toContain(TOKEN);
  });

  it("keeps its data in a NATS that requires credentials, given like every other command's", async () => {
    await using nats = await startLocalServer({ extraConfig: 'authorization { user: "registry", password: "s3cret-pass" }' });
    const denied = start(["registry", "serve", "--servers", nats.url, "--user", "registry", "--port", "0"], { NATS_PASSWORD: "wrong" });
    expect(await new Promise<number | null>((resolve) => denied.child.once("exit", resolve))).toBe(2);
    expect(denied.err()).toContain("NATS refused the credentials");
    expect(denied.err()).not.toContain("wrong");
    const { child, line } = start(["registry", "serve", "--servers", nats.url, "--user", "registry", "--port", "0", "--anonymous-read", "--json"], {
      NATS_PASSWORD: "s3cret-pass",
    });
    const info = JSON.parse(await line) as { registry: string };
    const res = await fetch(`${info.registry}/chronicle.registry.v1.RegistryService/ListSubjects`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await stop(child)).toBe(0);
  });

  it("refuses a bad command line and an unreachable NATS with exit code 2", async () => {
    const bad = start(["registry", "serve", "--https-cert", "x.pem"]);
    const code = await new Promise<number | null>((resolve) => bad.child.once("exit", resolve));
    expect(code).toBe(2);
    expect(bad.err()).toContain("--https-cert and --https-key go together");
    const down = start(["registry", "serve", "--servers", "nats://127.0.0.1:1", "--port", "0"]);
    expect(await new Promise<number | null>((resolve) => down.child.once("exit", resolve))).toBe(2);
    expect(down.err()).toMatch(/chronicle: cannot connect to NATS/);
  });

  it("runs beside NATS in chronicle dev", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-dev-registry-"));
    try {
      const { child, line } = start(["dev", "--port", "0", "--data", dir, "--json"]);
      const info = JSON.parse(await line) as { registry: string };
      expect(info.registry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${info.registry}/healthz`)).status).toBe(200);
      expect(await stop(child)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
