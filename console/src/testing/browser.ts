// Test support: Debian's chromium driven by Playwright. Not part of the package.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "@playwright/test";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = process.env["CHROMIUM_BIN"] ?? "/usr/bin/chromium";

/** How to get a browser when none is there and this process may not install one. */
export const INSTALL_HINT = "the console's browser tests need Debian's chromium: run `sudo apt-get install -y chromium` (or set CHROMIUM_BIN)";

/**
 * Finds chromium, installing Debian's package with apt-get when it is
 * missing and this process runs as root (as CI does). Returns undefined with
 * the reason when there is none and it cannot be installed here.
 */
export function ensureChromium(): { path: string } | { missing: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return { missing: INSTALL_HINT };
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { encoding: "utf8", env });
  const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { encoding: "utf8", env }) : update;
  if (install.status !== 0 || !existsSync(CHROMIUM))
    return { missing: `apt-get install chromium failed: ${(install.stderr || install.stdout).slice(-500)}; ${INSTALL_HINT}` };
  return { path: CHROMIUM };
}

/** Flags that keep chromium off the network and quiet on a machine with a closed network. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser context in a fresh profile folder, removed on close. */
export async function launchBrowser(path: string): Promise<BrowserContext & AsyncDisposable> {
  const profile = mkdtempSync(join(tmpdir(), "chronicle-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: path,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1360, height: 860 },
  });
  const closeContext = context.close.bind(context);
  const close = async () => {
    await closeContext().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  };
  return Object.assign(context, { [Symbol.asyncDispose]: close, close });
}
