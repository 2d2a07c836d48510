import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";
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
  /**
   * Receives progress lines while installing (what is fetched, megabytes so
   * far every few seconds) and notes about skipped binaries. Default: lines
   * on stderr, so a first run that downloads is never silent.
   */
  log?: (line: string) => void;
}

const stderrLog = (line: string): void => void process.stderr.write(`chronicle: ${line}\n`);

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

/** Bytes of every file under `dir` (what a download has written so far). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    try {
      if (entry.isDirectory()) total += bytesUnder(join(dir, entry.name));
      else if (entry.isFile()) total += statSync(join(dir, entry.name)).size;
    } catch {
      // renamed or removed meanwhile
    }
  }
  return total;
}

/**
 * Runs a download (apt-get) and reports progress as it goes: apt's own
 * `Get:`/`Fetched` lines, and every few seconds the megabytes written to
 * `watchDir` so far. Resolves with the exit status and the whole output.
 */
function download(
  cmd: string,
  args: string[],
  options: { cwd?: string; watchDir: string; what: string; log: (line: string) => void },
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    let output = "";
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (/^(Get|Fetched)\b/.test(line.trim())) options.log(`  ${line.trim()}`);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const ticker = setInterval(() => {
      const mb = (bytesUnder(options.watchDir) / 1e6).toFixed(1);
      options.log(`  ${options.what}: ${mb} MB so far, ${Math.round((Date.now() - started) / 1000)} s`);
    }, 3000);
    ticker.unref();
    const finish = (ok: boolean, extra = "") => {
      clearInterval(ticker);
      resolve({ ok, output: output + extra });
    };
    child.on("error", (err) => finish(false, String(err)));
    child.on("close", (code) => finish(code === 0));
  });
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
 * Progress (about 16 MB are fetched) goes to `options.log`.
 */
export async function installNatsServer(options: FindNatsServerOptions = {}): Promise<NatsServerBinary> {
  const min = options.minVersion ?? MIN_NATS_SERVER_VERSION;
  const log = options.log ?? stderrLog;
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
    log(`no nats-server ${min} or newer found; installing Debian unstable's into ${target}`);
    log("fetching the Debian unstable package index (about 11 MB)");
    const update = await download("apt-get", [...aptOptions, "update"], { watchDir: work, what: "package index", log });
    if (!update.ok) throw new Error(`apt-get update failed:\n${update.output}`);
    log("downloading the nats-server package (about 5 MB)");
    const fetched = await download("apt-get", [...aptOptions, "download", "nats-server"], {
      cwd: work,
      watchDir: join(work, "cache"),
      what: "nats-server package",
      log,
    });
    if (!fetched.ok) throw new Error(`apt-get download nats-server failed:\n${fetched.output}`);
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
 * installed by {@link installNatsServer} (with progress on `options.log`).
 * Idempotent, and fast (one `--version` call) once a binary is present.
 */
export async function ensureNatsServer(options: FindNatsServerOptions = {}): Promise<NatsServerBinary> {
  return findNatsServer(options) ?? (await installNatsServer(options));
}
