import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The folder where Chronicle keeps downloaded tools: `$CHRONICLE_CACHE_DIR`
 * when set, else `node_modules/.cache/chronicle` of the nearest project above
 * `from`, else `~/.cache/chronicle`.
 */
export function resolveCacheDir(from: string = process.cwd()): string {
  const env = process.env["CHRONICLE_CACHE_DIR"];
  if (env) return env;
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules"))) return join(dir, "node_modules", ".cache", "chronicle");
    if (dirname(dir) === dir) break;
  }
  return join(homedir(), ".cache", "chronicle");
}
