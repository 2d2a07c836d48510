// A TCP proxy on loopback in front of a NATS server, to cut a member's
// connection (every socket through it closed at once, as a network blip
// does) while the server stays up. Internal to the tests.
import { createServer, connect as tcpConnect, type Socket } from "node:net";

/** A running proxy. */
export interface TcpProxy {
  /** `nats://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Closes every connection through the proxy now; new ones are accepted. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`nats://host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target.replace(/^nats:/, "http:"));
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    url: `nats://127.0.0.1:${listening}`,
    cut() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
