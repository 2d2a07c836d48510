import type { ChronicleConnection } from "@chronicle/runtime";

/** One dependency's state as the status stream reports it. */
export interface DependencyState {
  name: "nats" | "registry";
  reachable: boolean;
  reason: string;
  since: string;
}

/** Options of {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  conn: ChronicleConnection;
  /** The registry's base URL; undefined when the console has none. */
  registryUrl: string | undefined;
  /** Time between probes, ms; default 2000. */
  intervalMs?: number;
  /** How long one probe may take, ms; default 1500. */
  timeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Watches whether NATS and the registry answer: a probe of each every
 * `intervalMs` (a NATS round trip with a timeout; the registry's
 * `GET /healthz`), plus the NATS connection's disconnect and reconnect
 * events for an immediate change. Listeners hear the full state on every
 * change, never on a probe that changed nothing.
 */
export class HealthMonitor {
  private readonly states = new Map<string, DependencyState>();
  private readonly listeners = new Set<(states: DependencyState[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: HealthMonitorOptions) {
    const now = new Date().toISOString();
    this.states.set("nats", { name: "nats", reachable: !options.conn.nc.isClosed(), reason: "", since: now });
    this.states.set("registry", {
      name: "registry",
      reachable: false,
      reason: options.registryUrl ? "not checked yet" : "no registry configured (--registry)",
      since: now,
    });
  }

  /** Starts probing; the first probe runs at once. */
  start(): void {
    void this.watchConnection();
    const loop = async () => {
      if (this.stopped) return;
      await this.probe();
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.options.intervalMs ?? 2000);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The current state of every dependency. */
  current(): DependencyState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  /** True while the named dependency answers. */
  reachable(name: "nats" | "registry"): boolean {
    return this.states.get(name)!.reachable;
  }

  /** Calls `fn` with the full state on every change; returns the unsubscribe function. */
  subscribe(fn: (states: DependencyState[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Probes both dependencies now (also what the timer runs). */
  async probe(): Promise<void> {
    const timeout = this.options.timeoutMs ?? 1500;
    const nats = withTimeout(this.options.conn.nc.flush(), timeout, "NATS").then(
      () => "",
      (e: unknown) => (this.options.conn.nc.isClosed() ? "the connection is closed" : (e as Error).message),
    );
    const registry = this.options.registryUrl
      ? withTimeout(fetch(`${this.options.registryUrl}/healthz`), timeout, `the registry at ${this.options.registryUrl}`).then(
          (r) => (r.ok ? "" : `the registry at ${this.options.registryUrl} answered HTTP ${r.status}`),
          (e: unknown) => reasonOf(e, this.options.registryUrl!),
        )
      : Promise.resolve(undefined);
    const [n, r] = await Promise.all([nats, registry]);
    this.set("nats", n);
    if (r !== undefined) this.set("registry", r);
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.options.conn.nc.status()) {
      if (this.stopped) return;
      if (s.type === "disconnect") this.set("nats", `disconnected from ${String((s as { server?: string }).server ?? "the server")}`);
      else if (s.type === "reconnect") this.set("nats", "");
    }
  }

  private set(name: "nats" | "registry", reason: string): void {
    const old = this.states.get(name)!;
    const reachable = reason === "";
    if (old.reachable === reachable && old.reason === reason) return;
    // a second failure with other words is the same outage: keep its start time
    const since = old.reachable === reachable ? old.since : new Date().toISOString();
    this.states.set(name, { name, reachable, reason, since });
    const all = this.current();
    for (const fn of this.listeners) fn(all);
  }
}

function reasonOf(err: unknown, url: string): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `cannot reach the registry at ${url}: ${cause}` : e.message;
}
