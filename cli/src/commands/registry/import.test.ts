import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startRegistryServer, type RegistryServer } from "@chronicle/registry";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";

const bin = new URL("../../bin.ts", import.meta.url).pathname;
const SOURCE_TOKEN = "source-token-0123456789abcdef";
const TARGET_TOKEN = "target-token-0123456789abcdef";

async function call(server: RegistryServer, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(server.url + path, {
    method,
    headers: { "content-type": "application/vnd.schemaregistry.v1+json", authorization: `Bearer ${token}` },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs the CLI; resolves with its exit code, stdout and stderr. */
async function chronicle(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every subject's versions with their ids and schemas, and each subject's own compatibility level. */
async function contents(server: RegistryServer, token: string) {
  const out: Record<string, unknown> = {};
  for (const subject of (await call(server, token, "GET", "/subjects")) as string[]) {
    const versions = (await call(server, token, "GET", `/subjects/${encodeURIComponent(subject)}/versions`)) as number[];
    const detail = [];
    for (const v of versions) {
      const { id, schema, references } = (await call(server, token, "GET", `/subjects/${encodeURIComponent(subject)}/versions/${v}`)) as Record<
        string,
        unknown
      >;
      detail.push({ v, id, schema, references });
    }
    const level = await call(server, token, "GET", `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`);
    out[subject] = { detail, level };
  }
  return out;
}

const MONEY = `syntax = "proto3";\npackage acme.common.v1;\nmessage Money {\n  int64 cents = 1;\n  string currency = 2;\n}\n`;
const ORDER_V1 = `syntax = "proto3";\npackage acme.orders.v1;\nimport "acme/common/v1/money.proto";\nmessage OrderPlaced {\n  string id = 1;\n  acme.common.v1.Money total = 2;\n}\n`;
const ORDER_V2 = ORDER_V1.replace("acme.common.v1.Money total = 2;", "acme.common.v1.Money total = 2;\n  string note = 3;");
const SHIP = `syntax = "proto3";\npackage acme.shipping.v1;\nmessage Shipped {\n  string id = 1;\n}\n`;

describe("chronicle registry import", () => {
  it("copies subjects, versions, ids, references and settings from one registry's Confluent API into another; resumes; is idempotent; says what it refused", async () => {
    await using nats = await startLocalServer();
    await using a = await startRegistryServer({
      nats: nats.url,
      bucket: "source_registry",
      auth: { tokens: [{ name: "a", role: "admin", token: SOURCE_TOKEN }] },
    });
    await using b = await startRegistryServer({
      nats: nats.url,
      bucket: "target_registry",
      auth: { tokens: [{ name: "b", role: "admin", token: TARGET_TOKEN }] },
    });
    const refs = [{ name: "acme/common/v1/money.proto", subject: "acme/common/v1/money.proto", version: 1 }];
    // ids in the source that do not start at 1, so that keeping them is visible
    await call(a, SOURCE_TOKEN, "PUT", "/mode", { mode: "IMPORT" });
    await call(a, SOURCE_TOKEN, "POST", "/subjects/shipped-value/versions", { schemaType: "PROTOBUF", schema: SHIP, id: 40, version: 3 });
    await call(a, SOURCE_TOKEN, "PUT", "/mode", { mode: "READWRITE" });
    await call(a, SOURCE_TOKEN, "POST", `/subjects/${encodeURIComponent("acme/common/v1/money.proto")}/versions`, { schemaType: "PROTOBUF", schema: MONEY });
    await call(a, SOURCE_TOKEN, "POST", "/subjects/orders-value/versions", { schemaType: "PROTOBUF", schema: ORDER_V1, references: refs });
    await call(a, SOURCE_TOKEN, "POST", "/subjects/orders-value/versions", { schemaType: "PROTOBUF", schema: ORDER_V2, references: refs });
    await call(a, SOURCE_TOKEN, "PUT", "/config/orders-value", { compatibility: "BACKWARD" });
    await call(a, SOURCE_TOKEN, "POST", "/subjects/conflict-value/versions", { schemaType: "PROTOBUF", schema: SHIP.replace("Shipped", "Conflict") });
    // the target already holds another schema as version 1 of conflict-value
    await call(b, TARGET_TOKEN, "POST", "/subjects/conflict-value/versions", { schemaType: "PROTOBUF", schema: SHIP.replace("Shipped", "Other") });

    const args = ["registry", "import", "--from", a.url, "--token", SOURCE_TOKEN, "--to", b.url, "--to-token", TARGET_TOKEN, "--json"];
    // a dry run writes nothing
    const dry = await chronicle([...args, "--dry-run"]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, copied: 4, skipped: 0 });
    expect(await call(b, TARGET_TOKEN, "GET", "/subjects")).toEqual(["conflict-value"]);

    // a first run stopped part-way: only the shipping subject
    const partial = await chronicle([...args.slice(0, -1), "--subjects", "ship*"]);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toMatch(/^copied 1 version\(s\) of 1 subject\(s\)/);

    const full = await chronicle(args);
    expect(full.code).toBe(1); // conflict-value was refused
    const summary = JSON.parse(full.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ subjects: 4, versions: 5, copied: 3, skipped: 1, configs: 1 });
    expect(summary["refused"]).toEqual([{ subject: "conflict-value", version: 1, why: expect.stringMatching(/version 1 of conflict-value has id \d+/) }]);
    expect(full.stderr).toMatch(/\[1\/5\] .*: (copied|already there)/);

    const [source, copy] = [await contents(a, SOURCE_TOKEN), await contents(b, TARGET_TOKEN)];
    for (const subject of ["acme/common/v1/money.proto", "orders-value", "shipped-value"])
      expect({ subject, ...(copy[subject] as object) }).toEqual({ subject, ...(source[subject] as object) });
    // every subject is back in its own mode
    expect(await call(b, TARGET_TOKEN, "GET", "/mode/orders-value?defaultToGlobal=true")).toEqual({ mode: "READWRITE" });

    // idempotent: a second run copies nothing
    const again = JSON.parse((await chronicle(args)).stdout) as Record<string, unknown>;
    expect(again).toMatchObject({ copied: 0, skipped: 4, configs: 0 });

    // the command of docs/registry.md, exactly as printed
    const doc = readFileSync(new URL("../../../../docs/registry.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("### Import from a Confluent-compatible registry"));
    const printed = /```sh\n([\s\S]*?)\n```/.exec(section)![1]!;
    const shims = mkdtempSync(join(tmpdir(), "chronicle-bin-"));
    try {
      writeFileSync(join(shims, "chronicle"), `#!/bin/sh\nexec "${process.execPath}" --import tsx --conditions=@chronicle/source "${bin}" "$@"\n`, {
        mode: 0o755,
      });
      const env = {
        ...process.env,
        PATH: `${shims}:${process.env["PATH"]}`,
        SOURCE: a.url,
        KEY: "importer",
        SECRET: SOURCE_TOKEN,
        REGISTRY: b.url,
        TOKEN: TARGET_TOKEN,
      };
      const { stdout } = await promisify(execFile)("sh", ["-c", printed], { env });
      expect(stdout).toBe(`copied 0 version(s) of 1 subject(s) from ${a.url} to ${b.url}; 2 already there; 0 refused; 0 compatibility setting(s)\n`);
    } finally {
      rmSync(shims, { recursive: true, force: true });
    }

    // usage errors exit 2 with one line
    const usage = await chronicle(["registry", "import", "--from", a.url, "--token", "x", "--basic-auth", "u:p"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split("\n")).toHaveLength(1);
  });
});
