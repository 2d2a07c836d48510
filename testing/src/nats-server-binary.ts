import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { resolveCacheDir } from "./cache-dir.js";
import { MIN_NATS_SERVER_VERSION, compareVersions, parseServerVersion } from "./server-version.js";

/** A usable `nats-server` binary and where it was found. */
export interface NatsServerBinary {
  /** Absolute path of the executable. */
  path: string;
  /** Its version, as `2.15.1`. */
  version: string;
  /** `env` ($NATS_SERVER_BIN), `path` ($PATH), `cache` (installed earlier) or `installed` (just now). */
  source: "env" | "path" | "cache" | "installed";
}

/** Options of {@link findNatsServer} and {@link ensureNatsServer}. */
export interface FindNatsServerOptions {
  /** Cache folder; default {@link resolveCacheDir}. */
  cacheDir?: string;
  /** Minimum version; default {@link MIN_NATS_SERVER_VERSION}. */
  minVersion?: string;
  /** Receives progress lines while installing. */
  log?: (line: string) => void;
}

const HOW_TO_INSTALL =
  `Install nats-server ${MIN_NATS_SERVER_VERSION} or newer (https://docs.nats.io/running-a-nats-service/introduction/installation) ` +
  "and put it on PATH, or set NATS_SERVER_BIN to its path.";

function versionOf(path: string): string | undefined {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) return undefined;
  return parseServerVersion(`${r.stdout}${r.stderr}`);
}

function onPath(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "nats-server");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Path of the binary inside a cache folder. */
export function cachedServerPath(cacheDir: string = resolveCacheDir()): string {
  return join(cacheDir, "bin", "nats-server");
}

/**
 * Looks for a `nats-server` at least `minVersion` in `$NATS_SERVER_BIN`, on
 * `PATH`, then in the cache. Returns undefined when none qualifies. A
 * `$NATS_SERVER_BIN` that is missing or too old is an error, since the user
 * asked for it explicitly.
 */
export function findNatsServer(options: FindNatsServerOptions = {}): NatsServerBinary | undefined {
  const min = options.minVersion ?? MIN_NATS_SERVER_VERSION;
  const env = process.env["NATS_SERVER_BIN"];
  if (env) {
    const version = versionOf(env);
    if (!version) {
      throw new ChronicleError(ErrorCode.ServerNotFound, `NATS_SERVER_BIN=${env} does not run as nats-server (\`${env} --version\` failed). ${HOW_TO_INSTALL}`);
    }
    if (compareVersions(version, min) < 0) {
      throw new ChronicleError(
        ErrorCode.ServerNotFound,
        `NATS_SERVER_BIN=${env} is nats-server ${version}; Chronicle needs ${min} or newer. ${HOW_TO_INSTALL}`,
      );
    }
    return { path: env, version, source: "env" };
  }
  const fromPath = onPath();
  if (fromPath) {
    const version = versionOf(fromPath);
    if (version && compareVersions(version, min) >= 0) return { path: fromPath, version, source: "path" };
    options.log?.(`nats-server on PATH (${fromPath}) is ${version ?? "unreadable"}, older than ${min}; looking further`);
  }
  const cached = cachedServerPath(options.cacheDir);
  if (existsSync(cached)) {
    const version = versionOf(cached);
    if (version && compareVersions(version, min) >= 0) return { path: cached, version, source: "cache" };
  }
  return undefined;
}

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd, timeout: 300_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

function hasCommand(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * Downloads Debian unstable's `nats-server` package with `apt-get download`
 * against a temporary sources list and state folder (nothing in the system
 * changes), unpacks only the binary into the cache and checks its version.
 * Works on Debian-family systems, as root or not; anywhere else it throws a
 * {@link ChronicleError} with code `server_not_found` saying how to install one.
 */
export function installNatsServer(options: FindNatsServerOptions = {}): NatsServerBinary {
  const min = options.minVersion ?? MIN_NATS_SERVER_VERSION;
  const log = options.log ?? (() => {});
  if (process.platform !== "linux" || !hasCommand("apt-get") || !hasCommand("dpkg-deb")) {
    throw new ChronicleError(
      ErrorCode.ServerNotFound,
      `No nats-server ${min} or newer was found, and this system has no apt-get/dpkg-deb to fetch one. ${HOW_TO_INSTALL}`,
    );
  }
  const target = cachedServerPath(options.cacheDir);
  mkdirSync(join(target, ".."), { recursive: true });
  const work = mkdtempSync(join(target, "..", ".install-"));
  try {
    mkdirSync(join(work, "lists", "partial"), { recursive: true });
    mkdirSync(join(work, "cache", "archives", "partial"), { recursive: true });
    writeFileSync(join(work, "sources.list"), "deb http://deb.debian.org/debian sid main\n");
    const aptOptions = [
      `Dir::Etc::sourcelist=${join(work, "sources.list")}`,
      "Dir::Etc::sourceparts=/dev/null",
      `Dir::State::Lists=${join(work, "lists")}`,
      `Dir::Cache=${join(work, "cache")}`,
      "Debug::NoLocking=1",
    ].flatMap((o) => ["-o", o]);
    log("fetching the Debian unstable package index (about 11 MB)");
    const update = run("apt-get", [...aptOptions, "-q", "update"]);
    if (!update.ok) throw new Error(`apt-get update failed:\n${update.output}`);
    log("downloading nats-server");
    const download = run("apt-get", [...aptOptions, "-q", "download", "nats-server"], work);
    if (!download.ok) throw new Error(`apt-get download nats-server failed:\n${download.output}`);
    const deb = readdirSync(work).find((f) => f.startsWith("nats-server_") && f.endsWith(".deb"));
    if (!deb) throw new Error("apt-get download produced no nats-server .deb");
    const unpack = run("dpkg-deb", ["-x", join(work, deb), join(work, "x")]);
    if (!unpack.ok) throw new Error(`dpkg-deb -x failed:\n${unpack.output}`);
    const binary = join(work, "x", "usr", "sbin", "nats-server");
    const version = versionOf(binary);
    if (!version) throw new Error(`the unpacked ${binary} does not run`);
    if (compareVersions(version, min) < 0) throw new Error(`Debian unstable ships nats-server ${version}, older than ${min}`);
    const staged = join(work, "nats-server");
    copyFileSync(binary, staged);
    chmodSync(staged, 0o755);
    renameSync(staged, target); // atomic: concurrent installers never see half a file
    log(`installed nats-server ${version} at ${target}`);
    return { path: target, version, source: "installed" };
  } catch (err) {
    throw new ChronicleError(ErrorCode.ServerNotFound, `Could not install nats-server from Debian's packages: ${(err as Error).message}\n${HOW_TO_INSTALL}`, {
      cause: err,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Returns a usable `nats-server`: one found by {@link findNatsServer}, or one
 * installed by {@link installNatsServer}. Idempotent, and fast (one
 * `--version` call) once a binary is present.
 */
export function ensureNatsServer(options: FindNatsServerOptions = {}): NatsServerBinary {
  return findNatsServer(options) ?? installNatsServer(options);
}
