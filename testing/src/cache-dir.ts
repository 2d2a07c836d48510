import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/**
 * The per-user folder where Chronicle keeps downloaded tools (the
 * `nats-server` binary), so every project and every CI run of one user
 * shares one download: `$CHRONICLE_CACHE_DIR` when set, else
 * `$XDG_CACHE_HOME/chronicle` (the XDG base directory convention; a relative
 * value is ignored, as the convention says), else `~/.cache/chronicle`.
 */
export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env["CHRONICLE_CACHE_DIR"];
  if (own) return own;
  const xdg = env["XDG_CACHE_HOME"];
  if (xdg && isAbsolute(xdg)) return join(xdg, "chronicle");
  return join(homedir(), ".cache", "chronicle");
}
