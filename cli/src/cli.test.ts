import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rootCommand } from "./commands/root.js";
import { defineCommand, type Command } from "./framework/command.js";
import { runCli } from "./framework/run-cli.js";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runTree(rootCommand, ...argv);
}

async function runTree(root: Command, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(root, argv, "9.9.9", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: process.cwd() });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("chronicle command line", () => {
  it("prints help and version, and lists --version in the help", async () => {
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: chronicle <command>");
    expect(help.out).toContain("dev");
    expect(help.out).toMatch(/^ {2}-V, --version +Print the version$/m);
    expect((await run("--version")).out).toBe("9.9.9");
  });

  it("has --help on every command", async () => {
    const walk = async (cmd: Command, path: string[]): Promise<void> => {
      const r = await run(...path, "--help");
      expect(r.code, path.join(" ")).toBe(0);
      expect(r.out, path.join(" ")).toContain(`Usage: ${["chronicle", ...path].join(" ")}`);
      for (const sub of cmd.subcommands ?? []) await walk(sub, [...path, sub.name]);
    };
    await walk(rootCommand, []);
  });

  it("uses one flag for the project folder, -C/--dir, on every command that reads a project", async () => {
    for (const path of [
      ["generate"],
      ["scaffold"],
      ["streams", "plan"],
      ["streams", "apply"],
      ["tail"],
      ["dlq", "show"],
      ["schema", "check"],
      ["schema", "push"],
      ["schema", "diff"],
    ]) {
      const r = await run(...path, "--help");
      expect(r.out, path.join(" ")).toMatch(/^ {2}-C, --dir DIR +Project folder, the one with buf\.yaml \(default: \.\)$/m);
      expect(r.out, path.join(" ")).not.toContain("--project");
    }
    // --tls-cert is the NATS client certificate everywhere; the registry's HTTPS has its own names
    const serve = await run("registry", "serve", "--help");
    expect(serve.out).toMatch(/--tls-cert FILE +PEM client certificate for TLS to NATS/);
    expect(serve.out).toMatch(/--https-cert FILE +PEM certificate: serve HTTPS/);
  });

  it("exits 2 for an unknown command, naming it and the accepted ones", async () => {
    const r = await run("nonsense");
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "nonsense"');
    expect(r.err).toContain("dev");
  });

  it("exits 2 for a bad integer, saying what is accepted, before loading the command", async () => {
    const r = await run("dev", "--port", "notaport");
    expect(r.code).toBe(2);
    expect(r.err).toBe('chronicle: --port must be an integer from 0 to 65535, got "notaport"');
  });

  it("names positionals as positionals in errors (dlq show <seq>, never a --seq that does not exist)", async () => {
    const r = await run("dlq", "show", "orders", "x");
    expect(r.code).toBe(2);
    expect(r.err).toBe('chronicle: <seq> must be an integer from 1 to 9007199254740991, got "x"');
  });

  it("prints parse errors on one line", async () => {
    for (const argv of [
      ["dev", "--nope"],
      ["dev", "--port"],
      ["dev", "extra"],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err.split("\n"), argv.join(" ")).toHaveLength(1);
      expect(r.err).toMatch(/^chronicle: .*see "chronicle dev --help"\.$/);
    }
  });

  it("exits 2 for a command group without its command", async () => {
    const r = await run("nats");
    expect(r.code).toBe(2);
    expect(r.out).toContain("install");
  });

  it("exits 70 with the stack for an unexpected crash, 2 without a code suffix for an input error", async () => {
    const tree = defineCommand({
      name: "t",
      summary: "test",
      subcommands: [
        defineCommand({
          name: "crash",
          summary: "throws a bug",
          load: async () => async () => {
            throw new TypeError("x is undefined");
          },
        }),
        defineCommand({
          name: "input",
          summary: "throws an input error",
          load: async () => async () => {
            const { ChronicleError } = await import("@chronicle/runtime");
            throw new ChronicleError("not_found", "stream orders does not exist");
          },
        }),
      ],
    });
    const crash = await runTree(tree, "crash");
    expect(crash.code).toBe(70);
    expect(crash.err).toMatch(
      /^chronicle: t crash failed unexpectedly \(a bug in Chronicle; please report it with this output\):\nTypeError: x is undefined\n\s+at /,
    );
    const input = await runTree(tree, "input");
    expect(input.code).toBe(2);
    expect(input.err).toBe("chronicle: stream orders does not exist");
  });

  it("outbox migrate creates the tables in a new SQLite file; status then reads them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-outbox-cli-"));
    try {
      const db = join(dir, "app.db");
      expect((await run("outbox", "status", "--db", db)).err).toContain(`no such SQLite file (create its tables with "chronicle outbox migrate --db ${db}")`);
      const migrated = await run("outbox", "migrate", "--db", db);
      expect(migrated.code, migrated.err).toBe(0);
      expect(migrated.out).toBe("outbox, relay-lease and inbox tables (prefix chronicle_) are in place on sqlite");
      expect(existsSync(db)).toBe(true);
      expect((await run("outbox", "migrate", "--db", db)).code).toBe(0);
      const status = await run("outbox", "status", "--db", db, "--json");
      expect(status.code, status.err).toBe(0);
      expect(JSON.parse(status.out)).toMatchObject({ pending: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
