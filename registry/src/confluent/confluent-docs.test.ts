import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startRegistryServer } from "../server/registry-server.js";
import { createMemoryStore } from "../storage/memory-store.js";

const doc = readFileSync(new URL("../../../docs/registry.md", import.meta.url), "utf8");
const TOKEN = "ops-token-0123456789abcdef";

/** The lines of the first `sh` block after `heading` in docs/registry.md. */
function commandsAfter(heading: string): string[] {
  const section = doc.slice(doc.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split("\n").filter((line) => line.trim() !== "");
}

describe("docs/registry.md, Confluent API, run as printed", () => {
  it("the curl commands answer what the page says", async () => {
    await using server = await startRegistryServer({ store: createMemoryStore(), auth: { tokens: [{ name: "ops", role: "admin", token: TOKEN }] } });
    const commands = commandsAfter("## Confluent API");
    expect(commands).toHaveLength(7);
    const run = async (command: string) =>
      (await promisify(execFile)("bash", ["-c", command], { env: { ...process.env, REGISTRY: server.url, TOKEN } })).stdout;
    const json = async (command: string) => JSON.parse(await run(command)) as unknown;
    const schema = 'syntax = "proto3";\npackage acme.orders.v1;\nmessage OrderPlaced {\n  string order_id = 1;\n}\n';
    expect(await json(commands[0]!)).toEqual({ id: 1 });
    const latest = { subject: "orders-value", version: 1, id: 1, schemaType: "PROTOBUF", schema };
    expect(await json(commands[1]!)).toEqual(latest);
    expect(doc).toContain(`(\`${JSON.stringify(latest)}\`)`);
    expect(await json(commands[2]!)).toEqual({ schemaType: "PROTOBUF", schema });
    expect(await json(commands[3]!)).toEqual({ compatibility: "BACKWARD" });
    const check = (await json(commands[4]!)) as { is_compatible: boolean; messages: string[] };
    expect(check.is_compatible).toBe(false);
    expect(check.messages[0]).toMatch(/^FIELD_WIRE_JSON_COMPATIBLE_TYPE: /);
    expect(await json(commands[5]!)).toBe(1);
    expect(await json(commands[6]!)).toEqual({ error_code: 40401, message: "subject orders-value has no live version (all are soft-deleted)" });
  });
});
