import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createAuthenticator, type AuthOptions, type Role } from "../auth/tokens.js";
import { RegistryService } from "../gen/chronicle/registry/v1/registry_pb.js";
import { createRegistryService, DEFAULT_MAX_SCHEMA_BYTES, checkSchemaId, toConnectError } from "../service/registry-service.js";
import { keys } from "../service/records.js";
import { createKvStore } from "../storage/kv-store.js";
import type { RegistryStore } from "../storage/store.js";
import { mapRequestParseErrors, markDispatched } from "./request-parse-errors.js";

/** Options of {@link startRegistryServer}. */
export interface RegistryServerOptions {
  /** NATS servers to keep the registry in (a URL or several); ignored when `store` or `connection` is given. */
  nats?: string | string[];
  /**
   * An open NATS connection to keep the registry in, for NATS that needs
   * credentials or TLS; the caller keeps ownership and closes it after the
   * server. Ignored when `store` is given.
   */
  connection?: NatsConnection;
  /** A store to use instead of NATS (for example `createMemoryStore()` in tests). */
  store?: RegistryStore;
  /** KV bucket; default `chronicle_registry`. */
  bucket?: string;
  /** Replicas of the bucket when it is created; default 1. */
  replicas?: number;
  /** Port; default 0 (any free port). */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Bearer tokens and anonymous access. Default: no tokens, nothing anonymous (every request is refused). */
  auth?: AuthOptions;
  /** Refuse every write. Default false. */
  readOnly?: boolean;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with these PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** Largest schema accepted in bytes; default 4 MiB, lowered to what the NATS server's max_payload lets the KV store. */
  maxSchemaBytes?: number;
  /** Where start-up and failure lines go; tokens are never logged. */
  log?: (line: string) => void;
}

/** A running registry server. `await using` closes it. */
export interface RegistryServer extends AsyncDisposable {
  /** Base URL, `http://127.0.0.1:PORT` (or https). */
  readonly url: string;
  readonly port: number;
  /** The largest schema it accepts, in bytes. */
  readonly maxSchemaBytes: number;
  /** Stops accepting requests, ends open connections and closes the NATS connection it opened. */
  close(): Promise<void>;
}

/** The role each RPC needs. */
const requiredRole: Record<string, Role> = {
  Register: "write",
  GetSchema: "read",
  GetVersion: "read",
  GetLatestVersion: "read",
  ListSubjects: "read",
  ListVersions: "read",
  CheckCompatibility: "read",
  GetConfig: "read",
  SetConfig: "admin",
  DeleteVersion: "admin",
  DeleteSubject: "admin",
};

/**
 * Starts the schema registry: a Connect service (Connect JSON and binary over
 * HTTP/1.1 and HTTP/2, gRPC, gRPC-Web) on one port, plus
 * `GET /schemas/ids/<id>` answering the binary FileDescriptorSet (the target
 * of `ce-dataschema`) and `GET /healthz`. Without TLS, HTTP/1.1 and
 * cleartext HTTP/2 (h2c, as gRPC clients use) share the port.
 */
export async function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const log = options.log ?? (() => {});
  let nc: NatsConnection | undefined;
  let store = options.store;
  let maxStoreValueBytes: number | undefined;
  if (!store) {
    let storeConn = options.connection;
    if (!storeConn) {
      if (!options.nats) throw new ConnectError("startRegistryServer needs nats, connection or store", Code.InvalidArgument);
      try {
        nc = await connect({ servers: options.nats, name: "chronicle-registry", maxReconnectAttempts: -1 });
      } catch (err) {
        throw new ConnectError(`cannot connect to NATS at ${String(options.nats)}: ${(err as Error).message}`, Code.Unavailable, undefined, undefined, err);
      }
      storeConn = nc;
    }
    try {
      store = await createKvStore(storeConn, {
        ...(options.bucket ? { bucket: options.bucket } : {}),
        ...(options.replicas ? { replicas: options.replicas } : {}),
      });
    } catch (err) {
      await nc?.close();
      throw toConnectError(err);
    }
    // a KV value is one message: leave room for headers
    maxStoreValueBytes = storeConn.info!.max_payload - 8 * 1024;
  }
  const maxSchemaBytes = Math.min(options.maxSchemaBytes ?? DEFAULT_MAX_SCHEMA_BYTES, maxStoreValueBytes ?? Infinity);
  const service = createRegistryService({ store, readOnly: options.readOnly ?? false, maxSchemaBytes });
  const auth = createAuthenticator(options.auth ?? { tokens: [] });
  const authInterceptor: Interceptor = (next) => async (req) => {
    auth.authorize(req.header.get("authorization"), requiredRole[req.method.name] ?? "admin");
    return next(req);
  };
  const acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({
    // markDispatched first: a failure answered before it ran happened while the request was read
    interceptors: [markDispatched, authInterceptor],
    acceptCompression,
    readMaxBytes: maxSchemaBytes + 64 * 1024,
    // an unknown field or enum name is a mistake worth an invalid_argument, not silence
    jsonOptions: { ignoreUnknownFields: false },
  }).service(RegistryService, service);
  // a body that does not parse is invalid_argument (400), not connect-es's internal (500)
  const rpcs = new Map(router.handlers.map((h) => [h.requestPath, mapRequestParseErrors(h, acceptCompression)]));
  const connectHandler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const rpc = rpcs.get((req.url ?? "").split("?", 1)[0]!);
    if (!rpc) {
      res.writeHead(404).end();
      return;
    }
    rpc(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((err: unknown) => {
        const ce = ConnectError.from(err);
        // the client went away
        if (ce.code === Code.Aborted) return;
        log(`registry: ${rpc.method.name} failed: ${ce.message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };
  const finalStore = store;

  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && (url.startsWith("/schemas/ids/") || url === "/healthz")) {
      void serveGet(url, req.headers["authorization"] ?? null, res as http.ServerResponse).catch((err: unknown) => {
        log(`registry: GET ${url.slice(0, 100)} failed: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    connectHandler(req, res);
  };

  async function serveGet(url: string, authorization: string | null, res: http.ServerResponse): Promise<void> {
    if (url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    try {
      auth.authorize(authorization, "read");
      const id = decodeURIComponent(url.slice("/schemas/ids/".length).split("?")[0]!);
      checkSchemaId(id);
      const e = await finalStore.get(keys.schema(id));
      if (!e) throw new ConnectError(`schema ${id} not found`, Code.NotFound);
      res.writeHead(200, {
        "content-type": "application/x-protobuf; messageType=google.protobuf.FileDescriptorSet",
        "cache-control": "public, max-age=31536000, immutable",
      });
      res.end(e.value);
    } catch (err) {
      const ce = toConnectError(err);
      const status =
        { [Code.NotFound]: 404, [Code.InvalidArgument]: 400, [Code.Unauthenticated]: 401, [Code.PermissionDenied]: 403, [Code.Unavailable]: 503 }[
          ce.code as number
        ] ?? 500;
      res
        .writeHead(status, { "content-type": "application/json" })
        .end(JSON.stringify({ code: Code[ce.code].replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()), message: ce.rawMessage }));
    }
  }

  const sockets = new Set<net.Socket>();
  let listener: net.Server;
  let h1: http.Server | undefined;
  let h2: http2.Http2Server | http2.Http2SecureServer;
  if (options.tls) {
    h2 = http2.createSecureServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile), allowHTTP1: true }, handler);
    listener = h2;
  } else {
    h1 = http.createServer(handler);
    h2 = http2.createServer(handler);
    const h1s = h1;
    const h2s = h2;
    // one port for HTTP/1.1 and h2c: the HTTP/2 connection preface starts with "PRI * HTTP/2.0"
    listener = net.createServer((socket) => {
      // a connection that never says anything is dropped instead of held open
      socket.setTimeout(30_000, () => socket.destroy());
      socket.once("data", (chunk) => {
        socket.setTimeout(0);
        socket.pause();
        socket.unshift(chunk);
        (chunk.subarray(0, 3).toString("latin1") === "PRI" ? h2s : h1s).emit("connection", socket);
        process.nextTick(() => socket.resume());
      });
      socket.on("error", () => socket.destroy());
    });
  }
  listener.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port ?? 0, host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;
  const url = `${options.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(
    `registry: listening on ${url} (${options.readOnly ? "read-only" : "read-write"}, ${options.auth?.tokens.length ?? 0} token(s), max schema ${maxSchemaBytes} bytes)`,
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        for (const s of sockets) s.destroy();
        h1?.closeAllConnections();
      });
      await nc?.close();
    })());
  return { url, port, maxSchemaBytes, close, [Symbol.asyncDispose]: close };
}
