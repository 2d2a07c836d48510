import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "../local-cluster.js";
import { startFaultNetwork, type FaultNetwork } from "./fault-network.js";

/** Options of {@link startFaultyCluster}: those of a local cluster. */
export type FaultyClusterOptions = Omit<LocalClusterOptions, "wiring">;

/**
 * A local cluster whose every link can fail: routes between nodes and
 * connections from named clients to nodes each run through a link of
 * {@link FaultyCluster.net}, and nodes can be paused (SIGSTOP) as well as
 * killed and restarted.
 *
 * Nodes are named `n1`, `n2`, ...; a client is any other name, given to
 * {@link FaultyCluster.clientUrls}. `urls` (from {@link LocalCluster}) still
 * reach every node directly: use them for checks that must not be cut off.
 */
export interface FaultyCluster extends LocalCluster {
  /** The links: `net.partition(["n1"], ["n2", "n3"])`, `net.cut("producer", "n1")`, `net.healAll()`. */
  readonly net: FaultNetwork;
  /**
   * Client URLs of every node as seen by client `name`, each through that
   * client's own link to the node (opened on first use). The nodes do not
   * tell clients about each other's addresses (`no_advertise`), so a client
   * only ever dials these.
   */
  clientUrls(name: string): Promise<string[]>;
  /** Freezes a node (SIGSTOP): it keeps its sockets but answers nothing, as a stalled VM or a long GC pause. */
  pause(node: string): Promise<void>;
  /** Thaws a node paused by {@link pause} (SIGCONT). */
  resume(node: string): Promise<void>;
  /** Nodes paused now. */
  readonly paused: ReadonlySet<string>;
  /** Heals every link and resumes every paused node. */
  healAll(): Promise<void>;
}

/**
 * Starts an N-node (default 3) JetStream cluster on 127.0.0.1 with every
 * route through a link of a new {@link FaultNetwork}, and waits until every
 * node is ready. Each node dials each other node through a link of its own,
 * and advertises an address that is never reachable, so no node learns a way
 * around a cut link from the others' gossip.
 *
 * @example
 * await using cluster = await startFaultyCluster();
 * const conn = await connect({ servers: await cluster.clientUrls("producer") });
 * await cluster.net.partition(["n1"], ["n2", "n3"]); // n1 is a minority of one
 * await cluster.net.healAll();
 */
export async function startFaultyCluster(options: FaultyClusterOptions = {}): Promise<FaultyCluster> {
  const net = await startFaultNetwork();
  try {
    const sink = await net.unreachablePort();
    // every link listens before the cluster picks its free ports, so that no link takes a port a node is about to bind
    const count = options.nodes ?? 3;
    const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const links = new Map<string, number>();
    for (const from of names) for (const to of names) if (from !== to) links.set(`${from}>${to}`, await net.link(from, to));
    const cluster = await startLocalCluster({
      ...options,
      wiring: async (nodes) => {
        for (const from of nodes) for (const to of nodes) if (to !== from) await net.retarget(links.get(`${from.name}>${to.name}`)!, to.routePort);
        const routes = (name: string) => names.filter((n) => n !== name).map((n) => `nats-route://127.0.0.1:${links.get(`${name}>${n}`)}`);
        // advertise: the address a node's peers would pass on to others, never reachable;
        // no_advertise: clients are not told the other nodes' client addresses
        return { routes, clusterConfig: [`advertise: "127.0.0.1:${sink}"`, "no_advertise: true"] };
      },
    });
    return withFaults(cluster, net);
  } catch (err) {
    await net.close();
    throw err;
  }
}

function withFaults(cluster: LocalCluster, net: FaultNetwork): FaultyCluster {
  const clients = new Map<string, Promise<string[]>>();
  const paused = new Set<string>();
  const faulty: FaultyCluster = {
    get servers() {
      return cluster.servers;
    },
    get urls() {
      return cluster.urls;
    },
    server: (name) => cluster.server(name),
    waitReady: () => cluster.waitReady(),
    net,
    paused,
    clientUrls(name) {
      let urls = clients.get(name);
      if (!urls) {
        urls = Promise.all(cluster.servers.map(async (s) => `nats://127.0.0.1:${await net.link(name, s.name, s.port)}`));
        clients.set(name, urls);
      }
      return urls;
    },
    async pause(node) {
      await cluster.server(node).kill("SIGSTOP");
      paused.add(node);
    },
    async resume(node) {
      await cluster.server(node).kill("SIGCONT");
      paused.delete(node);
    },
    async healAll() {
      await net.healAll();
      for (const node of [...paused]) await faulty.resume(node);
    },
    async stop() {
      paused.clear();
      await cluster.stop();
      await net.close();
    },
    async [Symbol.asyncDispose]() {
      await faulty.stop();
    },
  };
  return faulty;
}
