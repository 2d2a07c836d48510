import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootCommand } from "../commands/root.js";
import { runCli } from "../framework/run-cli.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
let dir: string;

async function chronicle(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function tsc(): string {
  const bin = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  // the repository's packages have no dist/: compile against their sources
  const r = spawnSync(process.execPath, [bin, "-p", dir, "--noEmit", "--customConditions", "@chronicle/source"], { encoding: "utf8" });
  return (r.stdout + r.stderr).trim();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "chronicle-init-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("init -> generate -> scaffold", () => {
  it("init writes a ready project into an empty folder and refuses a non-empty one", async () => {
    const r = await chronicle("init", "--name", "shop", "--packages", "registry");
    expect(r.code).toBe(0);
    for (const f of ["package.json", "tsconfig.json", "buf.yaml", "buf.gen.yaml", "proto/shop/orders/v1/orders.proto", "src/producer.ts", "src/consumer.ts"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toEqual(["@bufbuild/protobuf", "@chronicle/runtime"]);
    expect(pkg.dependencies["@chronicle/runtime"]).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(Object.keys(pkg.devDependencies).filter((d) => d.startsWith("@chronicle/"))).toEqual(["@chronicle/cli", "@chronicle/codegen", "@chronicle/testing"]);
    const again = await chronicle("init", "--packages", "registry");
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/is not empty/);
    // what npm install would provide: the repository's packages
    symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"), "dir");
  });

  // buf with both plugins and a strict tsc of the project, as whole processes: minutes on a loaded 2-core machine
  it("generate writes the SDK, and the project compiles under strict tsc", { timeout: 240_000 }, async () => {
    const r = await chronicle("generate");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    for (const f of ["shop/orders/v1/orders_pb.ts", "shop/orders/v1/orders_chronicle.ts", "chronicle/v1/options_pb.ts"])
      expect(existsSync(join(dir, "src/gen", f)), f).toBe(true);
    expect(tsc()).toBe("");
  });

  it("generate prints invalid options plainly, exits 2 and writes nothing", async () => {
    const proto = join(dir, "proto/shop/orders/v1/orders.proto");
    const good = readFileSync(proto, "utf8");
    const before = readFileSync(join(dir, "src/gen/shop/orders/v1/orders_chronicle.ts"), "utf8");
    writeFileSync(proto, good.replace('key: "order_id"\n    idempotency_key', 'key: "order_nr"\n    idempotency_key'));
    try {
      const r = await chronicle("generate");
      expect(r.code).toBe(2);
      expect(r.err).toMatch(
        /shop\/orders\/v1\/orders\.proto:\d+:\d+: option \(chronicle\.v1\.event\) of OrderPlaced: key "order_nr" is invalid: OrderPlaced has no field "order_nr"/,
      );
      expect(readFileSync(join(dir, "src/gen/shop/orders/v1/orders_chronicle.ts"), "utf8")).toBe(before);
    } finally {
      writeFileSync(proto, good);
    }
  });

  it("scaffold adds a stub when the stream gains an event, the project compiles again, and a second run changes nothing", { timeout: 240_000 }, async () => {
    const proto = join(dir, "proto/shop/orders/v1/orders.proto");
    writeFileSync(
      proto,
      `${readFileSync(proto, "utf8")}\n// The order was cancelled.\nmessage OrderCancelled {\n  option (chronicle.v1.event) = { stream: "orders" key: "order_id" };\n  string order_id = 1;\n}\n`,
    );
    expect((await chronicle("generate")).code).toBe(0);
    const consumer = readFileSync(join(dir, "src/consumer.ts"), "utf8");
    const check = await chronicle("scaffold", "--check", "src/consumer.ts");
    expect(check.code).toBe(1);
    const r = await chronicle("scaffold", "src/consumer.ts");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^src\/consumer\.ts:\d+: added OrderCancelled in ordersHandlers\(\.\.\.\)$/m);
    const after = readFileSync(join(dir, "src/consumer.ts"), "utf8");
    expect(after.startsWith(consumer.slice(0, consumer.indexOf("});")))).toBe(true);
    expect(tsc()).toBe("");
    expect((await chronicle("scaffold", "src/consumer.ts")).code).toBe(0);
    expect(readFileSync(join(dir, "src/consumer.ts"), "utf8")).toBe(after);
  });
});
