// Runs the commands docs/console.md prints, exactly as printed: the blocks
// marked `<!-- run by console/src/console-docs.test.ts -->`. A `chronicle`
// on PATH runs the CLI from source; long-running commands are stopped once
// they print their URL.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { connect, createProducer, ensureStream } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { startConsoleServer } from "./server/console-server.js";
import { ORDER_PLACED, orderPlacedDesc, orderPlacedV1, orderStream } from "./testing/shop-schema.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const MARK = "<!-- run by console/src/console-docs.test.ts -->";

function runBlocks(markdown: string): string[][] {
  const out: string[][] = [];
  const re = new RegExp(`${MARK}\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``, "g");
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push(m[1]!.split("\n"));
  return out;
}

/** Starts a long-running command line with bash, resolves with its first line on stdout, then stops it with SIGINT and waits for exit 0. */
function firstLine(line: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `exec ${line}`], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let first: string | undefined;
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (first === undefined && out.includes("\n")) {
        first = out.split("\n")[0]!;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("exit", (code) => (first !== undefined && code === 0 ? resolve(first) : reject(new Error(`${line} exited ${code}: ${err.slice(-1000)}`))));
  });
}

describe("docs/console.md", () => {
  it("runs every command it prints", { timeout: 120_000 }, async () => {
    const blocks = runBlocks(readFileSync(join(root, "docs/console.md"), "utf8"));
    expect(blocks.length).toBe(3);
    await using nats = await startLocalServer();
    await using registryServer = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    using registry = createRegistryClient({ baseUrl: registryServer.url });
    const schemaId = (await registry.register(ORDER_PLACED, orderPlacedV1)).id;
    await using conn = await connect({ servers: nats.url });
    const orders = orderStream("orders", 4, schemaId);
    await ensureStream(conn, orders);
    const p = createProducer(conn, orders);
    await p.publishBatch(
      Array.from({ length: 20 }, (_, i) => ({ name: "OrderPlaced" as const, event: create(orderPlacedDesc(orderPlacedV1), { orderId: `o-${i % 10}` }) })),
    );
    await p.close();
    const token = "docs-token-0123456789";
    await using web = await startConsoleServer({
      connection: conn,
      registry: { url: registryServer.url },
      auth: { tokens: [{ name: "docs", role: "read", token }] },
    });

    const dir = mkdtempSync(join(tmpdir(), "chronicle-console-docs-"));
    try {
      writeFileSync(
        join(dir, "chronicle"),
        `#!/bin/sh\nexec "${process.execPath}" --import "${join(root, "node_modules/tsx/dist/loader.mjs")}" --conditions=@chronicle/source "${join(root, "cli/src/bin.ts")}" "$@"\n`,
      );
      chmodSync(join(dir, "chronicle"), 0o755);
      writeFileSync(join(dir, "console-tokens.txt"), `ops:admin:${token}x\n`);
      const env = {
        ...process.env,
        PATH: `${dir}:${process.env["PATH"]}`,
        NATS_URL: nats.url,
        CHRONICLE_REGISTRY_URL: registryServer.url,
        CONSOLE: web.url,
        TOKEN: token,
      };
      const [dev, consoleCmd, curls] = blocks as [string[], string[], string[]];
      const devOut = JSON.parse(await firstLine(dev[0]!, env, dir)) as { console: string };
      expect(devOut.console).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await firstLine(consoleCmd[0]!, env, dir)).toMatch(/^Chronicle Console {2}http:\/\/127\.0\.0\.1:\d+ /);
      // asynchronously: the console answering curl runs in this process
      const answers: Record<string, unknown>[] = [];
      for (const line of curls)
        answers.push(JSON.parse((await promisify(execFile)("bash", ["-c", line], { cwd: dir, env })).stdout) as Record<string, unknown>);
      expect((answers[0]!["streams"] as { name: string }[]).map((s) => s.name)).toContain("orders");
      expect((answers[1]!["events"] as { key: string }[]).map((e) => e.key)).toEqual(["o-7", "o-7"]);
      expect(answers[2]).toEqual({ subjects: [ORDER_PLACED] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
