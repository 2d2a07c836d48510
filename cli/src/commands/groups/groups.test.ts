import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { connect, createProducer, defineStream, ensureStream, startConsumerGroup } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { rootCommand } from "../root.js";
import { runCli } from "../../framework/run-cli.js";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "9.9.9", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: process.cwd() });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("chronicle groups and lag", () => {
  it("list, describe (owner, floor, in flight, pending, lag per partition), lag --max and rewind of a stopped group", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = defineStream<{ Note: typeof StringValueSchema }>(
      { name: "cligroups", partitions: 4 },
      { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.split(":")[0]! } },
    );
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    await producer.publishBatch(Array.from({ length: 20 }, (_, i) => ({ name: "Note" as const, event: { value: `k${i % 5}:${i}` } })));
    let handled = 0;
    const member = await startConsumerGroup(conn, def, {
      group: "billing",
      memberId: "m1",
      onError: () => undefined,
      handlers: { Note: async () => void handled++ },
    });
    const deadline = Date.now() + 15_000;
    while (handled < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(handled).toBe(20);

    // a live member's line carries the counters of its last heartbeat
    let live = "";
    for (const until = Date.now() + 10_000; !live.includes("handled 20,") && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      live = (await run("groups", "describe", "cligroups", "billing", "--servers", server.url)).out;
    }
    expect(live).toMatch(/^ {2}m1\t.+ pid \d+\theartbeat \d+ ms ago\thandled 20, failed 0, dead-lettered 0$/m);

    const refused = await run("groups", "rewind", "cligroups", "billing", "--to", "start", "--servers", server.url);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("stop them first");
    await member.stop();

    const list = await run("groups", "list", "--servers", server.url);
    expect(list.code).toBe(0);
    expect(list.out).toBe("cligroups\tbilling\tpartitions 4\tlag 0");

    await producer.publish("Note", { value: "k1:late" });
    await producer.close();
    const described = await run("groups", "describe", "cligroups", "billing", "--servers", server.url);
    expect(described.code).toBe(0);
    const lines = described.out.split("\n");
    expect(lines[0]).toBe("group billing of cligroups: epoch 0, lag 1");
    expect(lines).toContain("partition\towner\tfloor\tin flight\tpending\tlag");
    // released partitions have no owner; the late event waits after its partition's floor
    const rows = lines.filter((l) => /^\d+\t/.test(l)).map((l) => l.split("\t"));
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r[1] === "-")).toBe(true);
    expect(rows.map((r) => Number(r[5])).reduce((a, b) => a + b, 0)).toBe(1);

    expect((await run("lag", "cligroups", "billing", "--max", "1", "--servers", server.url)).code).toBe(0);
    const over = await run("lag", "cligroups", "billing", "--max", "0", "--partitions", "--servers", server.url);
    expect(over.code).toBe(1);
    expect(over.out).toContain("cligroups\tbilling\t1");

    const rewound = await run("groups", "rewind", "cligroups", "billing", "--to", "start", "--servers", server.url);
    expect(rewound.code).toBe(0);
    expect(rewound.out).toBe("rewound 4 partitions; epoch 1");
    expect((await run("lag", "cligroups", "billing", "--json", "--servers", server.url)).out).toContain('"lag":21');
  });
});
