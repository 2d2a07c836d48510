import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createRegistryClient, registryApi, type AuthOptions, type RegistryClient } from "@chronicle/registry";
import type { ChronicleConnection } from "@chronicle/runtime";
import { OperationsService } from "../gen/chronicle/console/v1/console_pb.js";
import { accessInterceptor } from "./access.js";
import { AuditLog, type AuditLogOptions } from "./audit-log.js";
import type { ConsoleDeps, ProtoCompiler } from "./deps.js";
import { GroupWatchHub } from "./group-watch.js";
import { createGroupsSource } from "./groups-source.js";
import { HealthMonitor } from "./health.js";
import { SchemaDecoder } from "./messages/schema-decoder.js";
import { operationsService } from "./operations-handlers.js";
import { registryProxy } from "./registry-proxy.js";
import { StreamsSource } from "./streams-source.js";
import { DEFAULT_WEB_DIR, webAssetsHandler } from "./web-assets.js";

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions {
  /** The NATS connection to read streams, groups and dead letters through; the caller keeps ownership. */
  connection: ChronicleConnection;
  /** The NATS servers, user information hidden, as the session page shows them. */
  natsServers?: string;
  /** The schema registry: its base URL, the console's own token for it, a CA to trust. Without it, schemas are not shown and events not decoded. */
  registry?: { url: string; token?: string; ca?: string };
  /** The console's own tokens (read, write, admin) and anonymous access. Default: no tokens, nothing anonymous (every request is refused). */
  auth?: AuthOptions;
  /** Port; default 0 (any free port). */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Serve HTTPS with these PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** NATS monitoring URL (`http://host:8222`), to show the server's `sync_interval`. */
  natsMonitorUrl?: string;
  /** Compiles pasted .proto files for dry runs; without it only descriptor sets are accepted. */
  compileProto?: ProtoCompiler;
  /** The audit log's retention and replicas. */
  audit?: Omit<AuditLogOptions, "onRecord">;
  /** Folder of the built web UI; default the package's `dist/web`. */
  webDir?: string;
  /** Time between polls of a watched group, ms; default 1000 (never less). */
  groupPollIntervalMs?: number;
  /** The version shown in the UI. */
  version?: string;
  /** Where start-up lines and audit records go; tokens are never logged. */
  log?: (line: string) => void;
}

/** A running console. `await using` closes it. */
export interface ConsoleServer extends AsyncDisposable {
  /** Base URL, `http://127.0.0.1:PORT` (or https). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests, ends open streams and connections. The NATS connection stays open (it is the caller's). */
  close(): Promise<void>;
}

/**
 * Starts the Chronicle Console: the web UI (static files built into the
 * package) and its API on one port. The API is two Connect services,
 * `chronicle.console.v1.OperationsService` and the registry's own
 * `chronicle.registry.v1.RegistryService` (forwarded to the registry), so
 * the UI uses typed clients and curl speaks Connect JSON to both. Every
 * call needs a console token with the role its method names (read, write,
 * admin), and destructive calls are written to the audit log first.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const log = options.log ?? (() => {});
  const conn = options.connection;
  const registryUrl = options.registry?.url.replace(/\/+$/, "");
  const registry: RegistryClient | undefined = options.registry
    ? createRegistryClient({
        baseUrl: registryUrl!,
        ...(options.registry.token ? { token: options.registry.token } : {}),
        ...(options.registry.ca ? { ca: options.registry.ca } : {}),
        timeoutMs: 5000,
      })
    : undefined;
  const groups = createGroupsSource(conn);
  const health = new HealthMonitor({ conn, registryUrl });
  const audit = new AuditLog(conn, {
    ...options.audit,
    onRecord: (r) => log(`audit: ${r.at} ${r.who} (${r.role}) ${r.action} ${r.target}: ${r.outcome}${r.detail ? ` (${r.detail})` : ""}`),
  });
  const deps: ConsoleDeps = {
    conn,
    registry,
    registryUrl: registryUrl ?? "",
    natsServers: options.natsServers ?? "",
    version: options.version ?? "",
    decoder: new SchemaDecoder(registry),
    streams: new StreamsSource(conn, options.natsMonitorUrl),
    groups,
    groupWatch: new GroupWatchHub({
      groups,
      lastSequence: async (stream) => (await conn.jsm.streams.info(stream)).state.last_seq,
      ...(options.groupPollIntervalMs ? { intervalMs: options.groupPollIntervalMs } : {}),
    }),
    health,
    audit,
    compileProto: options.compileProto,
  };
  const assets = webAssetsHandler(options.webDir ?? DEFAULT_WEB_DIR);
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(OperationsService, operationsService(deps));
      router.service(registryApi.RegistryService, registryProxy(registry, audit));
    },
    interceptors: [accessInterceptor(options.auth ?? { tokens: [] })],
    jsonOptions: { ignoreUnknownFields: false },
    // the console serves HTTP/1.1 (and HTTPS) only, so requests are always node:http's
    fallback: (req, res) => assets(req as http.IncomingMessage, res as http.ServerResponse),
  });
  const server = options.tls
    ? https.createServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handler)
    : http.createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  health.start();
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`console: listening on ${url} (registry ${registryUrl ?? "none"}, ${options.auth?.tokens.length ?? 0} token(s))`);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      health.stop();
      deps.groupWatch.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      registry?.close();
    })());
  return { url, port, close, [Symbol.asyncDispose]: close };
}
