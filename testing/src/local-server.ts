import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { freePort } from "./free-port.js";
import { ensureNatsServer } from "./nats-server-binary.js";
import { guardChild, unguardChild } from "./orphan-reaper.js";
import { renderServerConfig, type ServerSpec } from "./server-config.js";

/** Options shared by {@link startLocalServer} and {@link startLocalCluster}. */
export interface LocalServerOptions {
  /**
   * Folder for JetStream data, kept after `stop()`. Default: a temporary
   * folder that `stop()` removes.
   */
  storeDir?: string;
  /** Client port; default a free one. Single server only. */
  port?: number;
  /**
   * Start with `sync_interval: always`: every write is fsynced before it is
   * acknowledged. Default false (nats-server's default: sync every 2 minutes).
   */
  syncAlways?: boolean;
  /** `max_payload` in bytes; default the server's (1 MiB). */
  maxPayload?: number;
  /** Extra nats-server configuration appended verbatim (authorization, TLS, ...). */
  extraConfig?: string;
  /** Path of the `nats-server` binary; default found or installed by `ensureNatsServer()`. */
  binary?: string;
  /** How long to wait for JetStream to be ready; default 20 s. */
  readyTimeoutMs?: number;
}

/**
 * A `nats-server` process with JetStream, started by this process and bound
 * to 127.0.0.1. It never outlives this process, even if this process is
 * killed. Use `await using server = await startLocalServer()` in tests.
 */
export interface LocalServer extends AsyncDisposable {
  /** Server name (`chronicle-1`, or `n1`..`n3` in a cluster). */
  readonly name: string;
  /** Client URL, `nats://127.0.0.1:PORT`. */
  readonly url: string;
  /** Client port. */
  readonly port: number;
  /** Monitoring endpoint, `http://127.0.0.1:PORT`. */
  readonly monitorUrl: string;
  /** JetStream store folder. */
  readonly storeDir: string;
  /** PID of the running process, undefined while stopped. */
  readonly pid: number | undefined;
  /** True while the process runs. */
  readonly running: boolean;
  /** The last lines the server logged, for error messages. */
  logs(): string;
  /** Stops gracefully (SIGTERM, then SIGKILL after 5 s); removes a temporary store folder. */
  stop(): Promise<void>;
  /**
   * Sends `signal` (default SIGKILL) and waits for it to take effect: the
   * exit, or for SIGSTOP the process stopped (it answers nothing more). Data
   * stays. A process that has not exited 10 s after a SIGTERM or SIGINT is
   * sent SIGKILL.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts the stopped or killed server again on the same ports and data,
   * and waits until JetStream is ready; with `{ waitReady: false }` only until
   * it listens (a node cut off from its cluster never becomes ready).
   */
  restart(options?: { waitReady?: boolean }): Promise<void>;
}

const LOG_LINES = 200;

/** How long a graceful shutdown may take before SIGKILL, ms. */
const GRACEFUL_EXIT_MS = 10_000;

/** Resolves once process `pid` is stopped (state `T` in /proc), at most 5 s later; at once where /proc is not there. */
async function untilStopped(pid: number | undefined): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pid !== undefined && Date.now() < deadline) {
    let state: string | undefined;
    try {
      // the state is the first field after the command name, which is in parentheses
      state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    } catch {
      return;
    }
    if (state === "T" || state === "t") return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** @private */
export class ServerProcess implements LocalServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logTail: string[] = [];
  private readonly configPath: string;

  constructor(
    private readonly spec: ServerSpec,
    private readonly binary: string,
    private readonly temporaryDir: string | undefined,
    private readonly readyTimeoutMs: number,
  ) {
    mkdirSync(spec.storeDir, { recursive: true });
    this.configPath = join(spec.storeDir, "nats-server.conf");
    writeFileSync(this.configPath, renderServerConfig(spec));
  }

  get name(): string {
    return this.spec.name;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.spec.port}`;
  }
  get port(): number {
    return this.spec.port;
  }
  get monitorUrl(): string {
    return `http://127.0.0.1:${this.spec.httpPort}`;
  }
  get storeDir(): string {
    return this.spec.storeDir;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return this.child !== undefined;
  }
  logs(): string {
    return this.logTail.join("\n");
  }

  /** Spawns the process; does not wait for readiness. */
  spawnProcess(): void {
    if (this.child) return;
    const child = spawn(this.binary, ["-c", this.configPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    if (child.pid !== undefined) guardChild(child.pid);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) this.logTail.push(line);
      if (this.logTail.length > LOG_LINES) this.logTail.splice(0, this.logTail.length - LOG_LINES);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exited = new Promise((resolveExit) => {
      child.once("exit", () => {
        if (child.pid !== undefined) unguardChild(child.pid);
        if (this.child === child) this.child = undefined;
        resolveExit();
      });
      child.once("error", (err) => {
        this.logTail.push(String(err));
        if (this.child === child) this.child = undefined;
        resolveExit();
      });
    });
  }

  /** Waits until `/healthz` says JetStream is ready (or `path` answers); throws with the log tail otherwise. */
  async waitReady(path: "/healthz" | "/varz" = "/healthz"): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.child) break;
      try {
        const res = await fetch(`${this.monitorUrl}${path}`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
        await res.body?.cancel();
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const why = this.child ? `not ready after ${this.readyTimeoutMs} ms` : "exited during start-up";
    await this.kill("SIGKILL");
    throw new ChronicleError(ErrorCode.ServerStartFailed, `nats-server ${this.name} ${why}. Its last log lines:\n${this.logs()}`, {
      context: { port: this.port },
    });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    if (signal === "SIGSTOP") return untilStopped(child.pid);
    if (signal === "SIGCONT") return;
    // a graceful shutdown that does not end (a route it cannot flush) ends as a SIGKILL would
    const timer = signal === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), GRACEFUL_EXIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(options: { waitReady?: boolean } = {}): Promise<void> {
    await this.kill("SIGKILL");
    this.spawnProcess();
    await this.waitReady(options.waitReady === false ? "/varz" : "/healthz");
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child) {
      child.kill("SIGCONT"); // a stopped process cannot handle SIGTERM
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.temporaryDir) rmSync(this.temporaryDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Resolves the binary and the data folder common to single servers and clusters. @private */
export async function prepare(options: LocalServerOptions): Promise<{ binary: string; baseDir: string; temporaryDir: string | undefined }> {
  const binary = options.binary ?? (await ensureNatsServer()).path;
  if (options.storeDir) {
    const baseDir = resolve(options.storeDir);
    mkdirSync(baseDir, { recursive: true });
    return { binary, baseDir, temporaryDir: undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), "chronicle-nats-"));
  return { binary, baseDir: dir, temporaryDir: dir };
}

/**
 * Starts one JetStream-enabled `nats-server` on 127.0.0.1 with free ports
 * and waits until JetStream is ready. The binary comes from
 * `ensureNatsServer()` (installed on first use where possible).
 *
 * @example
 * await using server = await startLocalServer();
 * const nc = await connect({ servers: server.url });
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const { binary, baseDir, temporaryDir } = await prepare(options);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const spec: ServerSpec = {
      name: "chronicle-1",
      port: options.port ?? (await freePort()),
      httpPort: await freePort(),
      storeDir: baseDir,
      syncAlways: options.syncAlways ?? false,
      ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
      ...(options.extraConfig !== undefined ? { extraConfig: options.extraConfig } : {}),
    };
    const server = new ServerProcess(spec, binary, temporaryDir, options.readyTimeoutMs ?? 20_000);
    server.spawnProcess();
    try {
      await server.waitReady();
      return server;
    } catch (err) {
      lastError = err;
      // a free port taken by someone else in the meantime: try other ports
      if (options.port !== undefined || !/address already in use/i.test(server.logs())) break;
    }
  }
  if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true });
  throw lastError;
}
