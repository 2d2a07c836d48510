import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const runDemo = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", "examples/demo/src/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 110_000,
  });

describe("npm run demo", () => {
  it("lists its options", () => {
    const r = runDemo("--help");
    expect(r.status).toBe(0);
    for (const option of ["--events N", "--keep-running", "--quiet"]) expect(r.stdout).toContain(option);
  });

  it("refuses a bad --events with exit code 2", () => {
    const r = runDemo("--events", "many");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--events must be an integer");
  });

  it("runs a short demo to a summary whose checks hold", { timeout: 120_000 }, () => {
    const r = runDemo("--events", "40", "--quiet");
    expect(r.stderr + r.stdout).toContain("all checks hold");
    expect(r.stdout).toContain("per-key order violations: 0");
    expect(r.stdout).not.toContain("FAIL");
    expect(r.status).toBe(0);
  });
});
