import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, endianness } from "node:os";
import { join } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime/errors";

/** How to start the buf CLI: a command and the arguments that precede buf's own. */
export interface BufCommand {
  command: string;
  args: string[];
}

const PLATFORM_PACKAGES: Record<string, string> = {
  "darwin arm64 LE": "@bufbuild/buf-darwin-arm64",
  "darwin x64 LE": "@bufbuild/buf-darwin-x64",
  "linux arm64 LE": "@bufbuild/buf-linux-aarch64",
  "linux armv7 LE": "@bufbuild/buf-linux-armv7",
  "linux x64 LE": "@bufbuild/buf-linux-x64",
  "win32 arm64 LE": "@bufbuild/buf-win32-arm64",
  "win32 x64 LE": "@bufbuild/buf-win32-x64",
};

let cached: BufCommand | undefined;

/**
 * Finds the buf CLI that the `@bufbuild/buf` npm package installed beside
 * this package, so users need no buf on their PATH: the native binary of the
 * platform package when it resolves, else buf's own Node launcher. `$BUF_BIN`
 * overrides both.
 */
export function findBuf(): BufCommand {
  if (process.env["BUF_BIN"]) return { command: process.env["BUF_BIN"], args: [] };
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let launcher: string;
  try {
    launcher = require.resolve("@bufbuild/buf/bin/buf");
  } catch (err) {
    throw new ChronicleError(ErrorCode.NotFound, "the buf CLI is missing: @bufbuild/buf is not installed; run npm install", { cause: err });
  }
  const pkg = PLATFORM_PACKAGES[`${process.platform} ${arch()} ${endianness()}`];
  if (pkg) {
    try {
      const fromBuf = createRequire(launcher);
      const exe = fromBuf.resolve(`${pkg}/bin/buf${process.platform === "win32" ? ".exe" : ""}`);
      cached = { command: exe, args: [] };
      return cached;
    } catch {
      // fall through to the launcher, which also knows buf's downloaded-binary fallback
    }
  }
  cached = { command: process.execPath, args: [launcher] };
  return cached;
}

/** Output of one buf run. */
export interface BufResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs buf with `args` in `cwd` and collects its output; never throws for a non-zero exit. */
export function runBuf(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<BufResult> {
  const buf = findBuf();
  return new Promise((resolve, reject) => {
    const child = spawn(buf.command, [...buf.args, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new ChronicleError(ErrorCode.Internal, `cannot run buf (${buf.command}): ${e.message}`, { cause: e })));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

const BUILD_ARGS = ["build", ".", "-o", "-#format=binpb"] as const;
/** Builds started ahead by {@link startImageBuild}, by absolute folder, until {@link buildImage} takes them. */
const startedBuilds = new Map<string, Promise<BufResult>>();

/**
 * Starts `buf build` of the folder `root` (absolute) now, when it holds a
 * buf.yaml or buf.work.yaml, so that buf runs while the command's code
 * loads; {@link buildImage} then takes its result. A build nobody takes is
 * left to finish.
 */
export function startImageBuild(root: string): void {
  if (startedBuilds.has(root) || !(existsSync(join(root, "buf.yaml")) || existsSync(join(root, "buf.work.yaml")))) return;
  const build = runBuf(BUILD_ARGS, { cwd: root });
  build.catch(() => undefined); // taken by buildImage, which sees the rejection; never an unhandled one
  startedBuilds.set(root, build);
}

/** `buf build` of `root` (absolute) as a binary image on stdout: the build started ahead for it, or a new one. */
export function buildImage(root: string): Promise<BufResult> {
  const started = startedBuilds.get(root);
  startedBuilds.delete(root);
  return started ?? runBuf(BUILD_ARGS, { cwd: root });
}
