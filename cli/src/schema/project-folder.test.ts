// `schema check --against-git` with project folders as users have them: an
// installed options module that git ignores (a `chronicle init` project), a
// -C/--dir that names no project, a project folder that is new in the
// working tree, and one that existed at the ref without a buf.yaml.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { rootCommand } from "../commands/root.js";
import { runCli } from "../framework/run-cli.js";

const optionsProto = join(dirname(fileURLToPath(import.meta.url)), "../../../codegen/proto");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ORDERS = (total: string) =>
  [
    'syntax = "proto3";',
    "package shop.orders.v1;",
    'import "chronicle/v1/options.proto";',
    'option (chronicle.v1.stream) = { name: "orders" };',
    "message OrderPlaced {",
    '  option (chronicle.v1.event) = { stream: "orders", key: "order_id" };',
    "  string order_id = 1;",
    `  ${total} total_cents = 2;`,
    "}",
    "",
  ].join("\n");

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=CI", "-c", "commit.gpgsign=false", ...args], { cwd: dir, stdio: "ignore" });
}

function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

/** A repository holding, in `sub`, a project laid out as `chronicle init` writes it, options in an ignored node_modules. */
function repository(sub: string): string {
  const repo = mkdtempSync(join(tmpdir(), "chronicle-folder-"));
  dirs.push(repo);
  git(repo, "init", "-q", "-b", "main");
  write(repo, ".gitignore", "node_modules/\n");
  const project = join(repo, sub);
  cpSync(optionsProto, join(project, "node_modules/@chronicle/codegen/proto"), { recursive: true });
  write(project, "buf.yaml", "version: v2\nmodules:\n  - path: proto\n  - path: node_modules/@chronicle/codegen/proto\n");
  write(project, "proto/shop/orders/v1/orders.proto", ORDERS("int64"));
  return repo;
}

function commitAll(repo: string): void {
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "change");
}

async function check(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, ["schema", "check", ...argv], "test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("schema check --against-git: project folders", () => {
  it("builds both sides against the installed options module that git ignores, and fails a breaking change with rule and location", async () => {
    const repo = repository(".");
    commitAll(repo);
    const same = await check(repo, "--against-git", "HEAD");
    expect(same.err).toBe("");
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/^compatible: 1 event checked against git HEAD \([0-9a-f]{7}\) \(1 unchanged\)$/m);
    write(repo, "proto/shop/orders/v1/orders.proto", ORDERS("string"));
    const broken = await check(repo, "--against-git", "HEAD");
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^proto\/shop\/orders\/v1\/orders\.proto:8:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: Field "total_cents"/m);
  });

  it("refuses a project folder without buf.yaml (exit 2) instead of passing every event as new", async () => {
    const repo = repository("services/orders");
    commitAll(repo);
    write(repo, "services/orders/proto/shop/orders/v1/orders.proto", ORDERS("string"));
    const r = await check(repo, "--against-git", "HEAD", "-C", "services");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^chronicle: \S+\/services has no buf\.yaml: run this in the project folder \(the one with buf\.yaml\), pass it with -C\/--dir/);
    expect(r.err).not.toMatch(/\[invalid_argument\]/);
    expect((await check(repo, "--against-git", "HEAD", "-C", "services/orders")).code).toBe(1);
  });

  it("says when the project folder did not exist at the ref, and compares it as empty", async () => {
    const repo = repository("services/orders");
    write(repo, "README", "first commit, before the project\n");
    git(repo, "add", "README");
    git(repo, "commit", "-q", "-m", "start");
    const r = await check(repo, "--against-git", "HEAD", "-C", "services/orders");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^compatible: 1 event checked against git HEAD \([0-9a-f]{7}\), where services\/orders did not exist \(1 new\)$/m);
  });

  it("refuses a folder that existed at the ref without a buf.yaml (exit 2), naming the ref", async () => {
    const repo = repository("services/orders");
    rmSync(join(repo, "services/orders/buf.yaml"));
    commitAll(repo);
    write(repo, "services/orders/buf.yaml", "version: v2\nmodules:\n  - path: proto\n  - path: node_modules/@chronicle/codegen/proto\n");
    const r = await check(repo, "--against-git", "HEAD", "-C", "services/orders");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^chronicle: services\/orders has no buf\.yaml at HEAD \([0-9a-f]{7}\)/);
  });
});
