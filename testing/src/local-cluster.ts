import { rmSync } from "node:fs";
import { join } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { freePort } from "./free-port.js";
import { ServerProcess, prepare, type LocalServer, type LocalServerOptions } from "./local-server.js";

/** Options of {@link startLocalCluster}. */
export interface LocalClusterOptions extends Omit<LocalServerOptions, "port"> {
  /** Number of nodes; default 3. */
  nodes?: number;
  /**
   * How the nodes reach each other; default directly, every node dialling
   * every route port. The fault injector passes its proxies here.
   * @private
   */
  wiring?: ClusterWiring;
}

/**
 * Decides the route URLs each node dials and extra lines of its `cluster`
 * block, once the route ports are known. {@link startFaultyCluster} uses it
 * to send every route through a link it can cut.
 * @private
 */
export type ClusterWiring = (nodes: readonly { name: string; routePort: number }[]) => Promise<{
  /** Route URLs node `name` dials. */
  routes(name: string): string[];
  /** Lines added to every node's `cluster` block. */
  clusterConfig: string[];
}>;

/**
 * A JetStream cluster of local `nats-server` processes with routes on
 * loopback. Each node can be killed, stopped and restarted on its own.
 */
export interface LocalCluster extends AsyncDisposable {
  /** The nodes, `n1`, `n2`, ... */
  readonly servers: readonly LocalServer[];
  /** Client URLs of every node, for `connect({ servers })`. */
  readonly urls: string[];
  /** Finds a node by server name (as in a stream's `cluster.leader`). */
  server(name: string): LocalServer;
  /** Waits until every running node reports JetStream ready. */
  waitReady(): Promise<void>;
  /** Stops every node; removes a temporary store folder. */
  stop(): Promise<void>;
}

/** Every node dials every route port directly (its own included: nats-server skips itself). */
const directWiring: ClusterWiring = async (nodes) => {
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.routePort}`);
  return { routes: () => routes, clusterConfig: [] };
};

/**
 * Starts an N-node (default 3) JetStream cluster on 127.0.0.1, each node
 * with its own store folder, and waits until every node is ready (a meta
 * leader is elected).
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `nodes must be an integer from 1 to 9, got ${count}`);
  }
  const { binary, baseDir, temporaryDir } = await prepare(options);
  const ports = await Promise.all(Array.from({ length: count }, async () => ({ client: await freePort(), http: await freePort(), route: await freePort() })));
  const names = ports.map((_, i) => `n${i + 1}`);
  const wiring = await (options.wiring ?? directWiring)(ports.map((p, i) => ({ name: names[i]!, routePort: p.route })));
  const servers = ports.map(
    (p, i) =>
      new ServerProcess(
        {
          name: names[i]!,
          port: p.client,
          httpPort: p.http,
          storeDir: join(baseDir, names[i]!),
          syncAlways: options.syncAlways ?? false,
          cluster: { name: "chronicle-local", port: p.route, routes: wiring.routes(names[i]!), extra: wiring.clusterConfig },
          ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
          ...(options.extraConfig !== undefined ? { extraConfig: options.extraConfig } : {}),
        },
        binary,
        undefined,
        options.readyTimeoutMs ?? 30_000,
      ),
  );
  const cluster: LocalCluster = {
    servers,
    urls: servers.map((s) => s.url),
    server(name) {
      const found = servers.find((s) => s.name === name);
      if (!found) throw new ChronicleError(ErrorCode.NotFound, `no node named ${name} in this cluster`);
      return found;
    },
    async waitReady() {
      await Promise.all(servers.filter((s) => s.running).map((s) => s.waitReady()));
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      await cluster.stop();
    },
  };
  for (const s of servers) s.spawnProcess();
  try {
    await cluster.waitReady();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
