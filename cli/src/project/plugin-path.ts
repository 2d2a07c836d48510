import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/**
 * A temporary folder of launchers for the protoc plugins `chronicle generate`
 * needs (`protoc-gen-es`, `protoc-gen-chronicle`), resolved from this
 * package's dependencies, so buf finds them whatever the project's
 * node_modules layout. `env` puts the folder first on PATH; `dispose`
 * removes it.
 */
export function pluginPath(): { env: NodeJS.ProcessEnv; dispose(): void } {
  const require = createRequire(import.meta.url);
  const plugins: Record<string, string> = {
    "protoc-gen-es": require.resolve("@bufbuild/protoc-gen-es/bin/protoc-gen-es"),
    "protoc-gen-chronicle": join(require.resolve("@chronicle/codegen/package.json"), "../bin/protoc-gen-chronicle.mjs"),
  };
  const dir = mkdtempSync(join(tmpdir(), "chronicle-plugins-"));
  for (const [name, script] of Object.entries(plugins)) {
    if (process.platform === "win32") {
      writeFileSync(join(dir, `${name}.cmd`), `@"${process.execPath}" "${script}" %*\r\n`);
    } else {
      writeFileSync(join(dir, name), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
      chmodSync(join(dir, name), 0o755);
    }
  }
  return {
    env: { ...process.env, PATH: [dir, process.env["PATH"] ?? ""].join(delimiter) },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
