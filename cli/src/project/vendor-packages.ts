import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../framework/command.js";

/** Chronicle's packages as a project installs them. */
export const CHRONICLE_PACKAGES = [
  "@chronicle/runtime",
  "@chronicle/testing",
  "@chronicle/registry",
  "@chronicle/codegen",
  "@chronicle/outbox",
  "@chronicle/console",
  "@chronicle/cli",
] as const;

/** A Chronicle package name. */
export type ChroniclePackage = (typeof CHRONICLE_PACKAGES)[number];

/**
 * The root of the Chronicle repository this CLI runs from, or undefined when
 * it was installed as a package (it then sits under a node_modules folder).
 */
export function sourceCheckoutRoot(): string | undefined {
  // this file is cli/src/project/ (sources) or cli/dist/project/ (built)
  const cliRoot = fileURLToPath(new URL("../../", import.meta.url));
  if (cliRoot.includes(`${sep}node_modules${sep}`)) return undefined;
  const repo = dirname(cliRoot);
  return existsSync(join(repo, "scripts", "pack.mjs")) && existsSync(join(repo, "runtime", "package.json")) ? repo : undefined;
}

/**
 * Builds and packs this clone's packages into `dest` (`npm run pack`, the
 * repository's scripts/pack.mjs) and returns each package's tarball file
 * name there. Progress goes to stderr. Throws a `UsageError` when packing
 * fails (the build's errors are on stderr).
 */
export function packPackages(repo: string, dest: string): Record<ChroniclePackage, string> {
  const r = spawnSync(process.execPath, [join(repo, "scripts", "pack.mjs"), dest], { cwd: repo, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (r.status !== 0) throw new UsageError(`building and packing Chronicle's packages in ${repo} failed (see above)`);
  const files = JSON.parse(r.stdout) as Record<string, string>;
  const missing = CHRONICLE_PACKAGES.filter((p) => !files[p]);
  if (missing.length) throw new UsageError(`packing did not produce ${missing.join(", ")}`);
  return files as Record<ChroniclePackage, string>;
}
