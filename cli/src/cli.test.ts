import { describe, expect, it } from "vitest";
import { rootCommand } from "./commands/root.js";
import { runCli } from "./framework/run-cli.js";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "9.9.9", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: process.cwd() });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("chronicle command line", () => {
  it("prints help and version", async () => {
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: chronicle <command>");
    expect(help.out).toContain("dev");
    expect((await run("--version")).out).toBe("9.9.9");
  });

  it("has --help on every command", async () => {
    const walk = async (cmd: typeof rootCommand, path: string[]): Promise<void> => {
      const r = await run(...path, "--help");
      expect(r.code, path.join(" ")).toBe(0);
      expect(r.out, path.join(" ")).toContain(`Usage: ${["chronicle", ...path].join(" ")}`);
      for (const sub of cmd.subcommands ?? []) await walk(sub, [...path, sub.name]);
    };
    await walk(rootCommand, []);
  });

  it("exits 2 for an unknown command, naming it and the accepted ones", async () => {
    const r = await run("nonsense");
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "nonsense"');
    expect(r.err).toContain("dev");
  });

  it("exits 2 for a bad port, saying what is accepted", async () => {
    const r = await run("dev", "--port", "notaport");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--port must be an integer from 0 to 65535");
    expect(r.err).toContain('"notaport"');
  });

  it("exits 2 for an unknown option", async () => {
    const r = await run("dev", "--nope");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--nope");
  });

  it("exits 2 for a command group without its command", async () => {
    const r = await run("nats");
    expect(r.code).toBe(2);
    expect(r.out).toContain("install");
  });
});
