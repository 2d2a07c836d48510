import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistryClient, startRegistryServer, type RegistryClient, type RegistryServer } from "@chronicle/registry";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rootCommand } from "../commands/root.js";
import { runCli } from "../framework/run-cli.js";
import { runBuf } from "../project/buf.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "../../..");
const optionsProto = join(repoRoot, "codegen/proto");
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ORDERS = "proto/acme/v1/orders.proto";

/** The orders file: OrderPlaced (an event) with `fields` on line 8 onwards, plus optional extra text. */
function orders(fields: string, extra = ""): string {
  return [
    'syntax = "proto3";',
    "package acme.v1;",
    'import "chronicle/v1/options.proto";',
    'option (chronicle.v1.stream) = { name: "orders", partitions: 3 };',
    "message OrderPlaced {",
    '  option (chronicle.v1.event) = { stream: "orders", key: "id" };',
    "  string id = 1;",
    fields,
    "}",
    extra,
  ].join("\n");
}

const SHIPPING = "proto/acme/v1/shipping.proto";
const HEAD = 'syntax = "proto3";\npackage acme.v1;\nimport "chronicle/v1/options.proto";\n';
const SHIPPED = 'message OrderShipped {\n  option (chronicle.v1.event) = { stream: "orders", key: "id" };\n  string id = 1;\n}\n';

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=CI", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
}

/** A git repository with a Chronicle project the way loadProject reads one: buf.yaml over proto/ and the vendored options. */
function project(ordersText: string): string {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-schema-"));
  dirs.push(dir);
  cpSync(optionsProto, join(dir, "vendor"), { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: vendor\n");
  write(dir, ORDERS, ordersText);
  git(dir, "init", "-q", "-b", "main");
  commit(dir, "v1");
  return dir;
}

function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

function commit(dir: string, message: string): void {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
}

async function cli(dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "0.0.0-test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("chronicle schema check --against-git", () => {
  it("fails on a changed field type with the rule, the field and file:line:column, in text, JSON and GitHub form", async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, ORDERS, orders("  int64 total = 2;"));
    commit(dir, "total becomes int64");

    const text = await cli(dir, "schema", "check", "--against-git", "HEAD~1");
    expect(text.code, text.err).toBe(1);
    expect(text.out).toMatch(
      /^proto\/acme\/v1\/orders\.proto:8:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: .*"total".*"string".*"int64".*\(affects acme\.v1\.OrderPlaced; against git HEAD~1 \([0-9a-f]{7}\)\)$/m,
    );
    expect(text.out).toMatch(/INCOMPATIBLE {2}acme\.v1\.OrderPlaced \(FULL_TRANSITIVE, WIRE_JSON\): 1 violation/);

    const gh = await cli(dir, "schema", "check", "--against-git", "HEAD~1", "--format", "github", "--rules", "WIRE");
    expect(gh.code).toBe(1);
    expect(gh.out).toMatch(/^::error file=proto\/acme\/v1\/orders\.proto,line=8,col=3,title=FIELD_WIRE_COMPATIBLE_TYPE::Field "total"/m);

    const json = await cli(dir, "schema", "check", "--against-git", "HEAD~1", "--format", "json");
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { compatible: boolean; subjects: { subject: string; status: string; violations: Record<string, unknown>[] }[] };
    expect(report.compatible).toBe(false);
    expect(report.subjects[0]).toMatchObject({ subject: "acme.v1.OrderPlaced", status: "incompatible" });
    expect(report.subjects[0]!.violations[0]).toMatchObject({
      rule: "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
      path: "acme.v1.OrderPlaced.total",
      file: ORDERS,
      line: 8,
      column: 3,
    });
  });

  it("passes when a field is added, and reports new and unchanged events", async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, ORDERS, orders("  string total = 2;\n  string note = 3;", SHIPPED));
    commit(dir, "add a field and an event");
    const r = await cli(dir, "schema", "check", "--against-git", "HEAD~1");
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/compatible {4}acme\.v1\.OrderPlaced/);
    expect(r.out).toMatch(/new {11}acme\.v1\.OrderShipped/);
    expect(r.out).toMatch(/^compatible: 2 events checked against git HEAD~1/m);
    // the working tree against itself
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD")).out).toMatch(/unchanged {5}acme\.v1\.OrderPlaced/);
  });

  it("fails a renamed field under WIRE_JSON and passes it under WIRE (flag or chronicle.yaml)", async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, ORDERS, orders("  string amount = 2;"));
    commit(dir, "rename total to amount");
    const strict = await cli(dir, "schema", "check", "--against-git", "HEAD~1");
    expect(strict.code).toBe(1);
    expect(strict.out).toMatch(/^proto\/acme\/v1\/orders\.proto:8:\d+: FIELD_SAME_(JSON_)?NAME: /m);
    const wire = await cli(dir, "schema", "check", "--against-git", "HEAD~1", "--rules", "WIRE");
    expect(wire.code, wire.out).toBe(0);
    write(dir, "chronicle.yaml", "# project settings\nschema:\n  mode: FULL_TRANSITIVE\n  rules: WIRE # renames are fine for us\n");
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD~1")).code).toBe(0);
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD~1", "--rules", "wire_json")).code).toBe(1);
  });

  it("reports an event deleted since the ref at its old location, unless the mode is NONE", async () => {
    const dir = project(orders("  string total = 2;", SHIPPED));
    write(dir, ORDERS, orders("  string total = 2;"));
    commit(dir, "drop OrderShipped");
    const r = await cli(dir, "schema", "check", "--against-git", "HEAD~1");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^proto\/acme\/v1\/orders\.proto:10:1: MESSAGE_NO_DELETE: Event "acme\.v1\.OrderShipped" is declared in git HEAD~1/m);
    expect(r.out).toMatch(/DELETED {7}acme\.v1\.OrderShipped/);
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD~1", "--mode", "none")).code).toBe(0);
  });

  it("checks plain messages too with --all-messages", async () => {
    const dir = project(orders("  string total = 2;", "message Note {\n  string text = 1;\n}\n"));
    write(dir, ORDERS, orders("  string total = 2;", "message Note {\n  bytes text = 1;\n}\n"));
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD")).code).toBe(0);
    const all = await cli(dir, "schema", "check", "--against-git", "HEAD", "--all-messages");
    expect(all.code).toBe(1);
    expect(all.out).toMatch(/^proto\/acme\/v1\/orders\.proto:11:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: .*"text"/m);
    expect(all.out).toMatch(/^INCOMPATIBLE: 2 messages checked/m);
  });

  it("prints a change in a message that several events share once, with the events it affects", async () => {
    const money = "message Money {\n  int64 units = 1;\n}\n";
    const shipped = SHIPPED.replace("  string id = 1;\n", "  string id = 1;\n  Money cost = 2;\n");
    const dir = project(orders("  Money total = 2;", money + shipped));
    write(dir, ORDERS, orders("  Money total = 2;", money.replace("int64", "string") + shipped));
    const text = await cli(dir, "schema", "check", "--against-git", "HEAD");
    expect(text.code).toBe(1);
    const lines = text.out.split("\n").filter((l) => l.includes("FIELD_WIRE_JSON_COMPATIBLE_TYPE"));
    expect(lines).toEqual([
      expect.stringMatching(/^proto\/acme\/v1\/orders\.proto:11:3: .*\(affects acme\.v1\.OrderPlaced, acme\.v1\.OrderShipped; against git HEAD/),
    ]);
    expect(text.out).toMatch(/INCOMPATIBLE {2}acme\.v1\.OrderShipped \(FULL_TRANSITIVE, WIRE_JSON\): 1 violation/);
    const gh = await cli(dir, "schema", "check", "--against-git", "HEAD", "--format", "github");
    expect(gh.out.split("\n").filter((l) => l.startsWith("::error"))).toHaveLength(1);
    const json = JSON.parse((await cli(dir, "schema", "check", "--against-git", "HEAD", "--format", "json")).out) as { violations: { subjects: string[] }[] };
    expect(json.violations.map((v) => v.subjects)).toEqual([["acme.v1.OrderPlaced", "acme.v1.OrderShipped"]]);
  });

  it("with --all-messages checks the whole module: unused enums and services too; deleting a plain message is allowed, an event is not", async () => {
    const extra = [
      "enum Unused {\n  UNUSED_UNSPECIFIED = 0;\n  UNUSED_GONE = 1;\n}",
      "message Note {\n  string text = 1;\n}",
      "service Orders {\n  rpc Place(OrderPlaced) returns (Note);\n}",
      SHIPPED,
    ].join("\n");
    const dir = project(orders("  string total = 2;", extra));
    const changed = extra
      .replace("  UNUSED_GONE = 1;\n", "")
      .replace("rpc Place(OrderPlaced)", "rpc Place(Note)")
      .replace("message Note {\n  string text = 1;\n}", "");
    write(
      dir,
      ORDERS,
      orders("  string total = 2;", changed.replace("returns (Note)", "returns (OrderPlaced)").replace("rpc Place(Note)", "rpc Place(OrderPlaced)")),
    );
    // the RPC now answers OrderPlaced, the enum lost a value, Note is gone
    const r = await cli(dir, "schema", "check", "--against-git", "HEAD", "--all-messages", "--format", "json");
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(r.out) as {
      violations: { rule: string; subjects: string[] }[];
      subjects: { subject: string; status: string; violations: unknown[] }[];
    };
    expect(report.violations.map((v) => [v.rule, v.subjects])).toEqual(
      expect.arrayContaining([
        ["ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", []],
        ["RPC_SAME_RESPONSE_TYPE", []],
      ]),
    );
    expect(report.subjects.find((s) => s.subject === "acme.v1.Note")).toMatchObject({ status: "deleted", violations: [] });
    const text = await cli(dir, "schema", "check", "--against-git", "HEAD", "--all-messages");
    expect(text.out).toMatch(
      /^INCOMPATIBLE: 3 messages checked against git HEAD \([0-9a-f]{7}\) \(1 deleted, 2 compatible, 3 violations outside any message\)$/m,
    );

    // an event deleted is still a violation in a whole-module check
    write(dir, ORDERS, orders("  string total = 2;", extra.replace(SHIPPED, "")));
    const gone = await cli(dir, "schema", "check", "--against-git", "HEAD", "--all-messages");
    expect(gone.code).toBe(1);
    expect(gone.out).toMatch(/MESSAGE_NO_DELETE: Event "acme\.v1\.OrderShipped"/);
  });

  it("exits 2 with buf's error when the module does not compile, and for a ref that does not exist", async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, ORDERS, orders("  strin total = 2;"));
    const broken = await cli(dir, "schema", "check", "--against-git", "HEAD");
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/proto\/acme\/v1\/orders\.proto:8:\d+/);
    expect(broken.err).not.toMatch(/\n\s+at /);

    // both sides fail (they build at once): the working tree's error is the one reported
    const both = await cli(dir, "schema", "check", "--against-git", "no-such-branch");
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/proto\/acme\/v1\/orders\.proto:8:\d+/);
    expect(both.err).not.toMatch(/no-such-branch/);

    write(dir, ORDERS, orders("  string total = 2;"));
    const ref = await cli(dir, "schema", "check", "--against-git", "no-such-branch");
    expect(ref).toMatchObject({ code: 2, out: "" });
    expect(ref.err).toMatch(/git ref "no-such-branch" does not exist/);

    expect((await cli(dir, "schema", "check")).err).toMatch(/give exactly one of --registry URL, --against-git REF, --against-image FILE/);
    expect((await cli(dir, "schema", "check", "--against-git", "HEAD", "--mode", "SIDEWAYS")).code).toBe(2);
  });

  it("treats a project that did not exist at the ref as all new", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-schema-"));
    dirs.push(dir);
    write(dir, "README.md", "protos come later\n");
    git(dir, "init", "-q", "-b", "main");
    commit(dir, "readme");
    cpSync(optionsProto, join(dir, "services/orders/vendor"), { recursive: true });
    write(dir, "services/orders/buf.yaml", "version: v2\nmodules:\n  - path: proto\n  - path: vendor\n");
    write(dir, `services/orders/${ORDERS}`, orders("  string total = 2;"));
    const r = await cli(dir, "schema", "check", "--dir", "services/orders", "--against-git", "HEAD");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/new {11}acme\.v1\.OrderPlaced/);
    commit(dir, "orders");
    write(dir, `services/orders/${ORDERS}`, orders("  bool total = 2;"));
    const gh = await cli(dir, "schema", "check", "--dir", "services/orders", "--against-git", "HEAD", "--format", "github");
    expect(gh.code).toBe(1);
    expect(gh.out).toMatch(/^::error file=services\/orders\/proto\/acme\/v1\/orders\.proto,line=8,col=3,/m);
  });
});

describe("chronicle schema check --against-image and diff --against-git", () => {
  it("checks against an image written by buf build -o, and diffs against a ref", async () => {
    const dir = project(orders("  string total = 2;\n  repeated string tags = 3;"));
    const built = await runBuf(["build", "-o", join(dir, "main.binpb")], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    write(dir, ORDERS, orders("  int64 total = 2;\n  string note = 4;"));

    const r = await cli(dir, "schema", "check", "--against-image", "main.binpb", "--format", "json");
    expect(r.code).toBe(1);
    const rules = (JSON.parse(r.out) as { subjects: { violations: { rule: string }[] }[] }).subjects[0]!.violations.map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(["FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"]));

    const diff = await cli(dir, "schema", "diff", "acme.v1.OrderPlaced", "--against-git", "HEAD");
    expect(diff.code).toBe(0);
    expect(diff.out.split("\n")).toEqual([
      expect.stringMatching(/^acme\.v1\.OrderPlaced: git HEAD \([0-9a-f]{7}\) -> working tree$/),
      "  ~ field    acme.v1.OrderPlaced.total: string total = 2  ->  int64 total = 2",
      "  - field    acme.v1.OrderPlaced.tags: repeated string tags = 3",
      "  + field    acme.v1.OrderPlaced.note: string note = 4",
    ]);
    expect((await cli(dir, "schema", "check", "--against-image", "missing.binpb")).code).toBe(2);
  });
});

describe("the chronicle binary", () => {
  // two whole CLI processes, each building both sides with buf: slow on a loaded machine
  it("exits 1 for an incompatible change and 0 for a compatible one, printing to stdout", { timeout: 180_000 }, async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, ORDERS, orders("  int64 total = 2;"));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", "cli/src/bin.ts", "schema", "check", "--dir", dir, ...args], {
        cwd: repoRoot,
        encoding: "utf8",
      });
    const bad = run("--against-git", "HEAD", "--format", "github");
    expect(bad.status, bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(/^::error file=proto\/acme\/v1\/orders\.proto,line=8,col=3,title=FIELD_WIRE_JSON_COMPATIBLE_TYPE::/m);
    write(dir, ORDERS, orders("  string total = 2;\n  int64 cents = 3;"));
    const good = run("--against-git", "HEAD");
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^compatible: 1 event checked against git HEAD/m);
  });
});

describe("chronicle schema against a registry on nats-server", () => {
  const TOKEN = "ci-write-token-0123456789abcdef";
  let nats: LocalServer;
  let server: RegistryServer;
  let client: RegistryClient;

  beforeAll(async () => {
    nats = await startLocalServer();
    server = await startRegistryServer({ nats: nats.url, auth: { tokens: [{ name: "ci", role: "write", token: TOKEN }], anonymousRead: true } });
    client = createRegistryClient({ baseUrl: server.url });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await nats?.stop();
  });

  it("exits 2 when the registry is unreachable or refuses the token", async () => {
    const dir = project(orders("  string total = 2;"));
    const down = await cli(dir, "schema", "check", "--registry", "http://127.0.0.1:9");
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/^chronicle: cannot reach the registry at http:\/\/127\.0\.0\.1:9/);
    const anonymous = await cli(dir, "schema", "push", "--registry", server.url);
    expect(anonymous.code).toBe(2);
    expect(anonymous.err).toMatch(/token/);
  });

  it("push registers once, refuses an incompatible change without registering anything, check and diff read the registry", async () => {
    const dir = project(orders("  string total = 2;"));
    write(dir, SHIPPING, `${HEAD}${SHIPPED}`);
    commit(dir, "two events in two files");
    const push = (...args: string[]) => cli(dir, "schema", "push", "--registry", server.url, "--token", TOKEN, ...args);

    const first = await push();
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/registered {4}acme\.v1\.OrderPlaced v1 \(sha256:[0-9a-f]{64}\)/);
    expect(first.out).toMatch(/^pushed: 2 registered, 0 unchanged/m);
    const again = await push("--format", "json");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ compatible: true, registered: [] });
    expect(await client.listVersions("acme.v1.OrderPlaced")).toEqual([1]);

    // OrderShipped gains a field (fine), OrderPlaced changes a type (not fine): nothing is registered
    write(dir, ORDERS, orders("  int64 total = 2;"));
    write(dir, SHIPPING, `${HEAD}${SHIPPED.replace("  string id = 1;\n", "  string id = 1;\n  string carrier = 2;\n")}`);
    const refused = await push();
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(
      /^proto\/acme\/v1\/orders\.proto:8:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: .*\(affects acme\.v1\.OrderPlaced; against registry v1\)$/m,
    );
    expect(refused.err).toMatch(/nothing was registered/);
    expect(await client.listVersions("acme.v1.OrderShipped")).toEqual([1]);
    expect(await client.listVersions("acme.v1.OrderPlaced")).toEqual([1]);

    const check = await cli(dir, "schema", "check", "--registry", server.url, "--format", "github");
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/^::error file=proto\/acme\/v1\/orders\.proto,line=8,col=3,title=FIELD_WIRE_JSON_COMPATIBLE_TYPE::/m);
    expect((await cli(dir, "schema", "check", "--registry", server.url, "--mode", "NONE")).code).toBe(0);

    // the compatible half alone goes through
    write(dir, ORDERS, orders("  string total = 2;"));
    const second = await push();
    expect(second.code, second.out + second.err).toBe(0);
    expect(second.out).toMatch(/unchanged {5}acme\.v1\.OrderPlaced v1/);
    expect(second.out).toMatch(/registered {4}acme\.v1\.OrderShipped v2/);

    const diff = await cli(dir, "schema", "diff", "acme.v1.OrderShipped", "--registry", server.url);
    expect(diff.code, diff.err).toBe(0);
    expect(diff.out).toBe("acme.v1.OrderShipped: v1 -> v2\n  + field    acme.v1.OrderShipped.carrier: string carrier = 2");

    // a deleted event is reported against the registry too
    rmSync(join(dir, SHIPPING));
    const deleted = await cli(dir, "schema", "check", "--registry", server.url);
    expect(deleted.code).toBe(1);
    expect(deleted.out).toMatch(/acme\.v1\.OrderShipped: MESSAGE_NO_DELETE: .*latest version 2/);
  });
});
