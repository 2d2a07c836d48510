import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, createProducer, defineStream } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../framework/run-cli.js";
import { loadProject } from "../../project/load-project.js";
import { rootCommand } from "../root.js";

const optionsProto = join(dirname(fileURLToPath(import.meta.url)), "../../../../codegen/proto");
const dir = mkdtempSync(join(tmpdir(), "chronicle-streams-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeProject(partitions: number): void {
  cpSync(optionsProto, join(dir, "vendor"), { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: vendor\n");
  mkdirSync(join(dir, "proto/acme/v1"), { recursive: true });
  writeFileSync(
    join(dir, "proto/acme/v1/orders.proto"),
    `syntax = "proto3";\npackage acme.v1;\nimport "chronicle/v1/options.proto";\noption (chronicle.v1.stream) = { name: "orders", partitions: ${partitions} };\n` +
      `message OrderPlaced {\n  option (chronicle.v1.event) = { stream: "orders", key: "order_id" };\n  string order_id = 1;\n  int64 cents = 2;\n}\n`,
  );
}

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir });
  return { code, out, err };
}

describe("chronicle streams and tail", () => {
  it("plans, applies, refuses a partition change without --force, and tails decoded events", async () => {
    await using server = await startLocalServer();
    writeProject(4);
    const plan = await cli("streams", "plan", "--servers", server.url, "--json");
    expect(plan.code, plan.err.join("\n")).toBe(0);
    expect((JSON.parse(plan.out[0]!) as { stream: string; action: string }[]).map((p) => [p.stream, p.action])).toEqual([
      ["orders", "create"],
      ["orders_dlq", "create"],
    ]);
    // --exit-code: 1 while apply would change something, 0 once everything is up to date
    expect((await cli("streams", "plan", "--servers", server.url, "--exit-code")).code).toBe(1);
    expect((await cli("streams", "apply", "--servers", server.url)).out.join("\n")).toMatch(/orders\s+created/);
    expect((await cli("streams", "apply", "--servers", server.url)).out.join("\n")).toMatch(/orders\s+unchanged/);
    expect((await cli("streams", "plan", "--servers", server.url, "--exit-code")).code).toBe(0);

    writeProject(8);
    const refused = await cli("streams", "apply", "--servers", server.url);
    expect(refused.code).toBe(1);
    expect(refused.out.join("\n")).toMatch(/partitions: 4 -> 8 +\[destructive/);
    writeProject(4);

    // publish with the runtime, using the project's descriptors
    const project = await loadProject(dir);
    const model = project.streams[0]!;
    const placed = model.events[0]!;
    const def = defineStream(
      { ...model.settings },
      {
        OrderPlaced: {
          schema: placed.desc,
          name: "OrderPlaced",
          type: placed.typeName,
          keyPath: "order_id",
          key: (m) => (m as unknown as { orderId: string }).orderId,
        },
      },
    );
    await using conn = await connect({ servers: server.url });
    const producer = createProducer(conn, def);
    for (let i = 0; i < 5; i++) await producer.publish("OrderPlaced", { orderId: `o-${i % 2}`, cents: BigInt(100 + i) } as never);
    await producer.close();
    await conn.js.publish("orders.OrderPlaced.o-9", new Uint8Array([0xff, 0xff]));

    const tail = await cli("tail", "orders", "--servers", server.url, "--json");
    expect(tail.code, tail.err.join("\n")).toBe(0);
    const lines = tail.out.map((l) => JSON.parse(l) as { sequence: number; key: string; event?: { orderId: string; cents: string }; error?: string });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatchObject({ sequence: 1, key: "o-0", event: { orderId: "o-0", cents: "100" } });
    expect(lines[5]!.error).toMatch(/cannot decode/);

    const byKey = await cli("tail", "orders", "--servers", server.url, "--key", "o-1", "--from", "3", "--limit", "1");
    expect(byKey.out).toHaveLength(1);
    expect(byKey.out[0]).toMatch(/^#4 p\d+ \S+ OrderPlaced key="o-1" \{"orderId":"o-1","cents":"103"\}$/);
    expect((await cli("tail", "orders", "--servers", server.url, "--type", "acme.v1.OrderPlaced")).out).toHaveLength(6);
    expect((await cli("tail", "orders", "--from", "yesterday-ish", "--servers", server.url)).code).toBe(2);
  }, 60_000);
});
