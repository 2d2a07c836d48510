import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/gen/**", "**/*.mjs", "**/*.js", "examples/*/src/gen/**"] },
  {
    files: ["**/*.ts", "**/*.tsx"],
    extends: [tseslint.configs.base],
    plugins: { "import-x": importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { "import-x/resolver": { node: true } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/registry", "@chronicle/registry/*", "@chronicle/console"],
              message: "runtime, codegen must not import the registry or the console (DESIGN.md: one-way dependencies)",
            },
          ],
        },
      ],
    },
  },
  {
    // one-way dependencies: the registry never imports the runtime; the runtime never imports the registry or codegen
    files: ["registry/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/runtime", "@chronicle/cli", "@chronicle/codegen", "@chronicle/testing", "@chronicle/console"],
              message: "the registry never imports the runtime, codegen, cli or testing helpers",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["runtime/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/registry", "@chronicle/cli", "@chronicle/codegen", "@chronicle/testing", "@chronicle/console"],
              message: "the runtime never imports the registry, codegen, cli or testing helpers",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["codegen/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/cli", "@chronicle/runtime", "@chronicle/testing", "@chronicle/console"],
              message: "codegen never imports the cli or the runtime (generated code does)",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["outbox/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/registry", "@chronicle/cli", "@chronicle/codegen", "@chronicle/testing", "@chronicle/console"],
              message: "the outbox uses only the runtime (its test helpers may use @chronicle/testing)",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["testing/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/registry", "@chronicle/cli", "@chronicle/codegen", "@chronicle/outbox", "@chronicle/console"],
              message: "the testing helpers use only the runtime",
            },
          ],
        },
      ],
    },
  },
  {
    // the console uses the runtime and the registry; only the CLI imports the console
    files: ["console/src/**/*.ts", "console/web/src/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@chronicle/cli", "@chronicle/codegen", "@chronicle/outbox", "@chronicle/testing"],
              message: "the console uses only the runtime and the registry (its tests may use @chronicle/testing)",
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      "cli/src/**/*.ts",
      "outbox/src/testing/**/*.ts",
      "bench/src/**/*.ts",
      "examples/**/*.ts",
      "scripts/**/*.ts",
      "*.ts",
      "**/*.test.ts",
      "test/**/*.ts",
      "console/src/testing/**/*.ts",
    ],
    rules: { "no-restricted-imports": "off" },
  },
);
