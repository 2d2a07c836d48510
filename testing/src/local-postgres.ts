import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { guardChild, unguardChild } from "./orphan-reaper.js";

const require = createRequire(import.meta.url);

/** `pg`, an optional peer dependency: only tests that start PostgreSQL need it. */
function loadPg(): typeof pg {
  try {
    return require("pg") as typeof pg;
  } catch (err) {
    throw new ChronicleError(ErrorCode.InvalidArgument, 'startLocalPostgres needs the "pg" package: npm install --save-dev pg', { cause: err });
  }
}

/** Where the PostgreSQL server binaries were found. */
export interface PostgresBinaries {
  /** Folder holding `initdb` and `postgres`. */
  readonly binDir: string;
  /** How they were found: `$PG_BIN_DIR`, `PATH`, `/usr/lib/postgresql/<v>/bin`, or installed with apt-get. */
  readonly source: "env" | "path" | "debian" | "apt-get";
}

/** Options of {@link startLocalPostgres}. */
export interface LocalPostgresOptions {
  /** Folder of `initdb`/`postgres`; default found by {@link findPostgresBinaries} (installing with apt-get as root on Debian). */
  binDir?: string;
  /**
   * Turn `fsync`, `synchronous_commit` and `full_page_writes` off: much
   * faster, and fine for tests, where the data folder is thrown away; a
   * crash of the *operating system* could lose committed transactions (a
   * killed client or server process cannot). Default true.
   */
  fast?: boolean;
  /** `max_connections`; default 50. */
  maxConnections?: number;
  /** How long to wait for the server to accept connections, ms; default 30 000. */
  readyTimeoutMs?: number;
  /** Called with progress lines (an apt-get install, say). */
  log?: (line: string) => void;
}

/**
 * A throwaway PostgreSQL server started by this process: bound to
 * 127.0.0.1 on a free port, trust authentication, user `postgres`, database
 * `postgres`, data in a temporary folder that `stop()` removes. It never
 * outlives this process, even when this process is SIGKILLed.
 */
export interface LocalPostgres extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** The temporary folder (data and unix socket). */
  readonly dir: string;
  /** PID of the postmaster. */
  readonly pid: number | undefined;
  /** The last lines the server logged. */
  logs(): string;
  /** Creates a fresh database and returns its URL (one per test keeps tests apart). */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (SIGINT), SIGKILL after 5 s, then removes the folder. */
  stop(): Promise<void>;
}

const SERVER_PROGRAMS = ["initdb", "postgres"];

function hasPrograms(dir: string): boolean {
  return SERVER_PROGRAMS.every((p) => existsSync(join(dir, p)));
}

function debianBinDirs(): string[] {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(base, v, "bin"));
}

/**
 * Finds PostgreSQL's server programs: `$PG_BIN_DIR`, then `PATH`, then the
 * newest `/usr/lib/postgresql/<version>/bin` (Debian's layout, where
 * `initdb` is not on `PATH`). Returns undefined when there are none.
 */
export function findPostgresBinaries(): PostgresBinaries | undefined {
  const env = process.env["PG_BIN_DIR"];
  if (env && hasPrograms(env)) return { binDir: env, source: "env" };
  for (const dir of (process.env["PATH"] ?? "").split(":")) if (dir && hasPrograms(dir)) return { binDir: dir, source: "path" };
  for (const dir of debianBinDirs()) if (hasPrograms(dir)) return { binDir: dir, source: "debian" };
  return undefined;
}

/**
 * {@link findPostgresBinaries}, and when nothing is found on a Debian-family
 * system running as root, `apt-get update && apt-get install -y postgresql`.
 * Otherwise throws `server_not_found` saying how to install PostgreSQL.
 */
export function ensurePostgresBinaries(log: (line: string) => void = () => undefined): PostgresBinaries {
  const found = findPostgresBinaries();
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && existsSync("/usr/bin/apt-get")) {
    log("PostgreSQL not found: installing Debian's postgresql package with apt-get");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update"], { stdio: "ignore", env });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], { stdio: "ignore", env });
    const after = findPostgresBinaries();
    if (after) return { binDir: after.binDir, source: "apt-get" };
  }
  throw new ChronicleError(
    ErrorCode.ServerNotFound,
    "no PostgreSQL server programs (initdb, postgres) found on PATH, in $PG_BIN_DIR or in /usr/lib/postgresql/*/bin. " +
      "Install them (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql`) or set PG_BIN_DIR.",
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root. As root, the programs run as `nobody`
 * (through `setpriv`, else `runuser`) and the data folder is handed to it.
 */
function asUnprivileged(dir: string): { wrap: (cmd: string, args: string[]) => [string, string[]] } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] };
  const uid = 65534;
  const gid = 65534;
  chownSync(dir, uid, gid);
  if (existsSync("/usr/bin/setpriv") || spawnSync("setpriv", ["--version"]).status === 0) {
    return { wrap: (cmd, args) => ["setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", cmd, ...args]] };
  }
  return { wrap: (cmd, args) => ["runuser", ["-u", "nobody", "--", cmd, ...args]] };
}

/**
 * Starts a throwaway PostgreSQL server for tests: finds (or installs, see
 * {@link ensurePostgresBinaries}) the server programs, runs `initdb` into a
 * temporary folder, starts `postgres` on a free 127.0.0.1 port with its unix
 * socket in that folder, and waits until it accepts connections. When this
 * process runs as root (CI), the server runs as `nobody`. Use
 * `await using pg = await startLocalPostgres()`.
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const log = options.log ?? (() => undefined);
  const binDir = options.binDir ?? ensurePostgresBinaries(log).binDir;
  // as root the server runs as nobody, who must be able to reach the folder: /tmp is world-traversable, $TMPDIR may not be
  const base = process.getuid?.() === 0 && existsSync("/tmp") ? "/tmp" : tmpdir();
  const dir = mkdtempSync(join(base, "chronicle-pg-"));
  const dataDir = join(dir, "data");
  const { wrap } = asUnprivileged(dir);
  const [initCmd, initArgs] = wrap(join(binDir, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]);
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8", cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new ChronicleError(ErrorCode.ServerStartFailed, `initdb failed (${init.status ?? init.signal}): ${init.stderr || init.stdout || String(init.error)}`);
  }
  const port = await freePort();
  const fast = options.fast ?? true;
  const settings = [
    "listen_addresses=127.0.0.1",
    `port=${port}`,
    `unix_socket_directories=${dir}`,
    `max_connections=${options.maxConnections ?? 50}`,
    "shared_buffers=32MB",
    ...(fast ? ["fsync=off", "synchronous_commit=off", "full_page_writes=off"] : []),
  ];
  const [cmd, args] = wrap(join(binDir, "postgres"), ["-D", dataDir, ...settings.flatMap((s) => ["-c", s])]);
  const tail: string[] = [];
  const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  if (child.pid !== undefined) guardChild(child.pid);
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line) tail.push(line);
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      running = false;
      if (child.pid !== undefined) unguardChild(child.pid);
      resolve();
    });
    child.once("error", (err) => {
      running = false;
      tail.push(String(err));
      resolve();
    });
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (running) {
        child.kill("SIGINT"); // fast shutdown: disconnects clients, no waiting for them
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const client = new (loadPg().Client)({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (!running || Date.now() > deadline) {
      await stop();
      throw new ChronicleError(
        ErrorCode.ServerStartFailed,
        `postgres ${running ? "did not accept connections in time" : "exited during start-up"}. Its last log lines:\n${tail.join("\n")}`,
        {
          context: { port },
        },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    dir,
    get pid() {
      return running ? child.pid : undefined;
    },
    logs: () => tail.join("\n"),
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name))
        throw new ChronicleError(ErrorCode.InvalidArgument, `database name ${JSON.stringify(name)} must match [a-z_][a-z0-9_]*`);
      const client = new (loadPg().Client)({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** True when `path` is a folder (used by tests that check cleanup). @private */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
