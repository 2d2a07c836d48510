import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createRegistryClient } from "../client/registry-client.js";
import { createMemoryStore } from "../storage/memory-store.js";
import { messageSet } from "../testing/schemas.js";
import { startRegistryServer } from "./registry-server.js";

const doc = readFileSync(new URL("../../../docs/registry.md", import.meta.url), "utf8");

/** The lines of the first `sh` block after `heading` in docs/registry.md. */
function commandsAfter(heading: string): string[] {
  const section = doc.slice(doc.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split("\n").filter((line) => line.trim() !== "");
}

describe("docs/registry.md, run as printed", () => {
  it("the curl commands of 'Reads: from memory' answer what the page says", async () => {
    await using server = await startRegistryServer({ store: createMemoryStore(), auth: { tokens: [], anonymousAdmin: true } });
    const c = createRegistryClient({ baseUrl: server.url });
    const id = (await c.register("acme.orders.v1.OrderPlaced", messageSet("acme.orders.v1.OrderPlaced", [{ name: "order_id", number: 1 }]))).id;
    c.close();
    const commands = commandsAfter("## Reads: from memory");
    expect(commands).toHaveLength(4);
    // asynchronously: the server answers from this process
    const run = async (command: string) =>
      (await promisify(execFile)("bash", ["-c", command], { env: { ...process.env, REGISTRY: server.url, ID: id } })).stdout;
    const head = await run(commands[0]!);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toContain(`etag: "${id}"`);
    expect(head).toContain("cache-control: public, max-age=31536000, immutable");
    expect(await run(commands[1]!)).toBe("304\n");
    expect(await run(commands[2]!)).toBe("400\n");
    expect(await run(commands[3]!)).toBe("ok\n");
  });
});
