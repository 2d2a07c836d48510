// The packages as users get them: built, packed with `npm pack`, installed
// into a fresh project outside the repository, imported, and the bin run.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const packages = ["runtime", "testing", "registry", "codegen", "outbox", "console", "cli"];
const work = mkdtempSync(join(tmpdir(), "chronicle-pack-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("packed packages", () => {
  it("install and import in a project outside the repository, and `npx chronicle --help` works", { timeout: 600_000 }, () => {
    execFileSync("npm", ["run", "build"], { cwd: root, stdio: "pipe" });
    const packDir = join(work, "tarballs");
    execFileSync("mkdir", ["-p", packDir]);
    execFileSync("npm", ["pack", ...packages.flatMap((p) => ["--workspace", p]), "--pack-destination", packDir], { cwd: root, stdio: "pipe" });
    const tarballs = readdirSync(packDir).map((f) => join(packDir, f));
    expect(tarballs).toHaveLength(packages.length);

    const app = join(work, "app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs], { cwd: app, stdio: "pipe" });

    for (const p of packages) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", `const m = await import("@chronicle/${p}"); console.log(Object.keys(m).length);`], {
        cwd: app,
        encoding: "utf8",
      });
      expect(r.stderr, `import @chronicle/${p}`).toBe("");
      expect(Number(r.stdout.trim()), `exports of @chronicle/${p}`).toBeGreaterThan(0);
    }
    // the SQL drivers are optional peers: without one, opening that kind of database says what to install
    const noDriver = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `const { openOutboxDatabase } = await import("@chronicle/outbox"); openOutboxDatabase("x.db");`],
      { cwd: app, encoding: "utf8" },
    );
    expect(noDriver.status).not.toBe(0);
    expect(noDriver.stderr).toContain('needs the "better-sqlite3" package: npm install better-sqlite3@12');

    // the console's web UI ships built: nothing to build at install, and none is attempted
    const web = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const c = await import("@chronicle/console"); const fs = await import("node:fs"); console.log(c.ensureWebBuilt(), fs.existsSync(c.DEFAULT_WEB_DIR + "/index.html"));`,
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(web.stdout.trim()).toBe("packaged true");

    const help = spawnSync("npx", ["--no-install", "chronicle", "--help"], { cwd: app, encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: chronicle <command>");
    const version = spawnSync("npx", ["--no-install", "chronicle", "--version"], { cwd: app, encoding: "utf8" });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
