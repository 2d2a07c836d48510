import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import workspace packages from their TypeScript sources, so no build
// is needed before a run (the "@chronicle/source" export condition does the
// same for tsc and tsx).
const root = fileURLToPath(new URL(".", import.meta.url));

/** Test files that run alone, one at a time. */
const FAULT_SUITES = ["test/reliability/**/*.test.ts", "test/faults/**/*.test.ts", "testing/src/faults/**/*.test.ts"];

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@chronicle\/(runtime|testing|registry|codegen|outbox|console|cli)$/, replacement: `${root}$1/src/index.ts` },
      { find: /^@chronicle\/runtime\/errors$/, replacement: `${root}runtime/src/errors.ts` },
      { find: /^@chronicle\/codegen\/model$/, replacement: `${root}codegen/src/model.ts` },
      { find: /^@chronicle\/registry\/compat$/, replacement: `${root}registry/src/compat/index.ts` },
      { find: /^@chronicle\/registry\/gen\/(.*)\.js$/, replacement: `${root}registry/src/gen/$1.ts` },
    ],
  },
  test: {
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    projects: [
      {
        // everything else, two files at a time
        extends: true,
        test: {
          name: "unit",
          include: ["{runtime,testing,registry,codegen,outbox,console,cli,bench}/src/**/*.test.ts", "examples/*/src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", ...FAULT_SUITES],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // the reliability and fault suites (clusters, member processes, timing bounds): one file at a
        // time, after the rest, so that no other test's load counts against their bounds
        extends: true,
        test: {
          name: "faults",
          include: FAULT_SUITES,
          sequence: { groupOrder: 1 },
          fileParallelism: false,
        },
      },
    ],
  },
});
