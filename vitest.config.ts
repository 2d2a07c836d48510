import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import workspace packages from their TypeScript sources, so no build
// is needed before a run (the "@chronicle/source" export condition does the
// same for tsc and tsx).
const root = fileURLToPath(new URL(".", import.meta.url));

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
    include: ["{runtime,testing,registry,codegen,outbox,console,cli,bench}/src/**/*.test.ts", "examples/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
