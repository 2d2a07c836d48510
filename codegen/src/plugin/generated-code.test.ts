import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const testdata = join(repo, "codegen/testdata");

describe("generated code", () => {
  it("compiles under the strict base tsconfig, and the exhaustive form rejects a missing handler", () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-tsc-"));
    try {
      const include = [join(testdata, "gen/**/*.ts"), join(testdata, "types/**/*.ts")];
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: join(repo, "tsconfig.base.json"),
          compilerOptions: {
            noEmit: true,
            typeRoots: [join(repo, "node_modules/@types")],
            paths: { "@chronicle/runtime": [join(repo, "runtime/src/index.ts")] },
          },
          include,
        }),
      );
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      const r = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("contains no any", () => {
    const text = readFileSync(join(testdata, "gen/acme/orders/v1/orders_chronicle.ts"), "utf8");
    expect(text).not.toMatch(/\bany\b/);
  });
});
