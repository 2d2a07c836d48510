import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { guardChild, unguardChild } from "../orphan-reaper.js";
import type { AgentReply, AgentRequest } from "./link-agent.js";
import type { CutMode, PipeState, PipeStats } from "./link-pipe.js";

/** Counters of one directed link of a {@link FaultNetwork}. */
export interface LinkStats extends PipeStats {
  from: string;
  to: string;
}

/**
 * A network of named endpoints (cluster nodes, clients) whose every link
 * runs through a userspace TCP proxy on 127.0.0.1 that can be cut and healed,
 * any number of times. Links are pairs of endpoints: cutting `a`-`b` stops
 * traffic both ways between them and nowhere else. Nothing leaves loopback.
 *
 * The proxies run in a child process of their own (killed with this one),
 * so the test's own work never delays the traffic they forward.
 */
export interface FaultNetwork extends AsyncDisposable {
  /** Every endpoint named by a link so far. */
  readonly endpoints: readonly string[];
  /**
   * Opens a directed link: connections that `from` makes to the returned
   * port on 127.0.0.1 reach `targetPort` on 127.0.0.1 (owned by `to`).
   * Opened open, or cut if `from`-`to` is cut now. Without `targetPort`,
   * connections wait until {@link retarget} names it: the link's port is
   * taken before the target's port is chosen, so the two cannot collide.
   */
  link(from: string, to: string, targetPort?: number): Promise<number>;
  /** Sets (or changes) the target port of the link listening on `port`. */
  retarget(port: number, targetPort: number): Promise<void>;
  /** Cuts every link between `a` and `b`, both ways (default mode `drop`: a black hole). */
  cut(a: string, b: string, mode?: CutMode): Promise<void>;
  /** Heals the links between `a` and `b`: held traffic flows again. */
  heal(a: string, b: string): Promise<void>;
  /** Cuts every link between a member of `side` and a member of `other` (endpoints in neither keep their links). */
  partition(side: readonly string[], other: readonly string[], mode?: CutMode): Promise<void>;
  /** Cuts every link of `name` to the endpoints in `from` (default every other endpoint). */
  isolate(name: string, from?: readonly string[], mode?: CutMode): Promise<void>;
  /** Heals every link. */
  healAll(): Promise<void>;
  /** The pairs cut now, with their mode. */
  cuts(): { a: string; b: string; mode: CutMode }[];
  /** A port on 127.0.0.1 that resets every connection: an address that is never reachable. */
  unreachablePort(): Promise<number>;
  /** Counters of every directed link. */
  stats(): Promise<LinkStats[]>;
  /** Closes every link and stops the proxy process. */
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** An {@link AgentRequest} before it is given an id. */
type Request = AgentRequest extends infer R ? (R extends AgentRequest ? Omit<R, "id"> : never) : never;

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/** How to start the agent: its module beside this one, through tsx when running from TypeScript sources. */
function agentEntry(): { path: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  return { path: fileURLToPath(new URL(fromSource ? "./link-agent.ts" : "./link-agent.js", import.meta.url)), execArgv: fromSource ? ["--import", "tsx"] : [] };
}

class AgentNetwork implements FaultNetwork {
  private readonly pending = new Map<number, { resolve: (r: AgentReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  /** Directed links: agent port -> endpoints. */
  private readonly links = new Map<number, { from: string; to: string }>();
  private readonly cutPairs = new Map<string, { a: string; b: string; mode: CutMode }>();
  private readonly names = new Set<string>();
  private exited = false;

  constructor(private readonly agent: ChildProcess) {
    agent.on("message", (reply: AgentReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      if (reply.error) p.reject(new ChronicleError(ErrorCode.Internal, `fault agent: ${reply.error}`));
      else p.resolve(reply);
    });
    agent.once("exit", () => {
      this.exited = true;
      if (agent.pid !== undefined) unguardChild(agent.pid);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new ChronicleError(ErrorCode.Closed, "the fault agent process exited"));
      }
      this.pending.clear();
    });
  }

  get endpoints(): readonly string[] {
    return [...this.names];
  }

  private request(req: Request): Promise<AgentReply> {
    if (this.exited) return Promise.reject(new ChronicleError(ErrorCode.Closed, "the fault network is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChronicleError(ErrorCode.Timeout, `fault agent did not answer ${req.op} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.agent.send({ ...req, id });
    });
  }

  async link(from: string, to: string, targetPort = 0): Promise<number> {
    if (from === to) throw new ChronicleError(ErrorCode.InvalidArgument, `a link needs two endpoints, got ${from} twice`);
    const { port } = await this.request({ op: "open", target: targetPort });
    this.links.set(port!, { from, to });
    this.names.add(from).add(to);
    const cut = this.cutPairs.get(pairKey(from, to));
    if (cut) await this.request({ op: "set", ports: [port!], state: cut.mode });
    return port!;
  }

  async retarget(port: number, targetPort: number): Promise<void> {
    if (!this.links.has(port)) throw new ChronicleError(ErrorCode.NotFound, `no link listens on port ${port}`);
    await this.request({ op: "target", port, target: targetPort });
  }

  private portsBetween(a: string, b: string): number[] {
    const ports: number[] = [];
    for (const [port, l] of this.links) if ((l.from === a && l.to === b) || (l.from === b && l.to === a)) ports.push(port);
    return ports;
  }

  private async setPairs(pairs: [string, string][], state: PipeState): Promise<void> {
    const ports: number[] = [];
    for (const [a, b] of pairs) {
      if (a === b) continue;
      if (state === "open") this.cutPairs.delete(pairKey(a, b));
      else this.cutPairs.set(pairKey(a, b), { a, b, mode: state });
      ports.push(...this.portsBetween(a, b));
    }
    if (ports.length > 0) await this.request({ op: "set", ports, state });
  }

  cut(a: string, b: string, mode: CutMode = "drop"): Promise<void> {
    return this.setPairs([[a, b]], mode);
  }

  heal(a: string, b: string): Promise<void> {
    return this.setPairs([[a, b]], "open");
  }

  partition(side: readonly string[], other: readonly string[], mode: CutMode = "drop"): Promise<void> {
    return this.setPairs(
      side.flatMap((a) => other.map((b): [string, string] => [a, b])),
      mode,
    );
  }

  isolate(name: string, from: readonly string[] = this.endpoints, mode: CutMode = "drop"): Promise<void> {
    return this.partition([name], from, mode);
  }

  healAll(): Promise<void> {
    return this.setPairs(
      [...this.cutPairs.values()].map((c): [string, string] => [c.a, c.b]),
      "open",
    );
  }

  cuts(): { a: string; b: string; mode: CutMode }[] {
    return [...this.cutPairs.values()];
  }

  async unreachablePort(): Promise<number> {
    return (await this.request({ op: "sink" })).port!;
  }

  async stats(): Promise<LinkStats[]> {
    const { stats = [] } = await this.request({ op: "stats" });
    return stats.map((s) => ({ ...s, ...this.links.get(s.port)! }));
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.agent.once("exit", () => r()));
    this.agent.kill("SIGKILL");
    await gone;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts the proxy process of a new {@link FaultNetwork}. Needs no
 * privileges: every link is a TCP listener on 127.0.0.1.
 *
 * @example
 * await using net = await startFaultNetwork();
 * const port = await net.link("app", "db", dbPort); // the app dials 127.0.0.1:port
 * await net.cut("app", "db"); // black hole
 * await net.heal("app", "db");
 */
export async function startFaultNetwork(): Promise<FaultNetwork> {
  const { path, execArgv } = agentEntry();
  const agent = fork(path, [], { execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  if (agent.pid !== undefined) guardChild(agent.pid);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ChronicleError(ErrorCode.Timeout, "the fault agent did not start within 30 s")), 30_000);
    agent.once("message", () => {
      clearTimeout(timer);
      resolve();
    });
    agent.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new ChronicleError(ErrorCode.Internal, `the fault agent exited during start-up (${code ?? signal})`));
    });
  });
  return new AgentNetwork(agent);
}
