import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { NodeHandler } from "./http/plain-routes.js";

/** Where and how to listen. @private */
export interface ListenOptions {
  host: string;
  /** 0 for any free port. */
  port: number;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with these PEM files. */
  tls?: { certFile: string; keyFile: string } | undefined;
}

/** A listening HTTP server. @private */
export interface Listening {
  /** `http://host:port` or `https://...`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and ends the open ones. */
  close(): Promise<void>;
}

/** How long a new connection may stay silent before it is dropped. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

/**
 * One cleartext port for HTTP/1.1 and for HTTP/2 with prior knowledge (h2c,
 * as gRPC clients use it): Node's HTTP/2 server speaks no HTTP/1.1 without
 * TLS, so each connection goes to one server or the other by its first
 * bytes; an HTTP/2 connection starts with the preface "PRI * HTTP/2.0".
 */
function cleartextListener(handler: NodeHandler): { listener: net.Server; h1: http.Server } {
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  // the sockets are accepted here, not by the HTTP servers: Nagle's algorithm off, as Node's HTTP servers set it
  const listener = net.createServer({ noDelay: true }, (socket) => {
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
    socket.once("data", (chunk) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      (chunk.subarray(0, 3).toString("latin1") === "PRI" ? h2 : h1).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
    socket.on("error", () => socket.destroy());
  });
  return { listener, h1 };
}

/**
 * Serves `handler` on `options.host:port`: HTTP/1.1 and h2c on one
 * cleartext port, or HTTPS with HTTP/2 and HTTP/1.1 by ALPN.
 * @private
 */
export async function listen(handler: NodeHandler, options: ListenOptions): Promise<Listening> {
  const { listener, h1 } = options.tls
    ? {
        listener: http2.createSecureServer(
          { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), allowHTTP1: true, noDelay: true },
          handler,
        ),
        h1: undefined,
      }
    : cleartextListener(handler);
  const sockets = new Set<net.Socket>();
  listener.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closed: Promise<void> | undefined;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${port}`,
    port,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const s of sockets) s.destroy();
        h1?.closeAllConnections();
      })),
  };
}
