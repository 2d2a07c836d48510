import type { NatsConnection } from "@nats-io/transport-node";
import { createAuthenticator, type AuthOptions } from "../auth/tokens.js";
import { DEFAULT_MAX_SCHEMA_BYTES, openRegistry, type Registry } from "../service/registry.js";
import { toConnectError } from "../service/registry-error.js";
import type { RegistryStore } from "../storage/store.js";
import { listen } from "./listen.js";
import { openStorage } from "./open-storage.js";
import { createRegistryHandler, maxRequestBytesFor } from "./registry-handler.js";

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
  /**
   * Largest schema accepted, in bytes of the binary FileDescriptorSet,
   * whether it arrives as binary or as base64 in JSON; default 4 MiB,
   * lowered to what the NATS server's max_payload lets the KV store.
   */
  maxSchemaBytes?: number;
  /**
   * How often the server checks its in-memory copy of the registry against
   * the KV bucket, in milliseconds; a copy not confirmed for three intervals
   * answers with the `chronicle-registry-stale-ms` header.
   * @default 1000
   */
  checkIntervalMs?: number;
  /**
   * Answer plain Connect POSTs of GetVersion, GetLatestVersion and GetSchema
   * without connect-es's per-request machinery (same bytes, several times
   * fewer CPU cycles); every other request, and every failure, goes through
   * connect-es. Turn it off to serve everything through connect-es.
   * @default true
   */
  fastReads?: boolean;
  /** Where start-up and failure lines go; tokens are never logged. */
  log?: (line: string) => void;
}

/** A running registry server. `await using` closes it. */
export interface RegistryServer extends AsyncDisposable {
  /** Base URL, `http://127.0.0.1:PORT` (or https). */
  readonly url: string;
  readonly port: number;
  /** The largest schema it accepts, in bytes of the binary FileDescriptorSet. */
  readonly maxSchemaBytes: number;
  /** The largest request body it reads, in bytes: room for the largest schema as base64 JSON. */
  readonly maxRequestBytes: number;
  /** The registry it serves, for code in the same process: reads answered from this server's copy, writes as over HTTP (no token checked). */
  readonly registry: Registry;
  /** Stops accepting requests, ends open connections, stops watching the bucket and closes the NATS connection it opened. */
  close(): Promise<void>;
}

/**
 * Starts the schema registry: the Connect service (Connect JSON and binary
 * over HTTP/1.1 and HTTP/2, gRPC, gRPC-Web) on one port, plus
 * `GET /schemas/ids/<id>` answering the binary FileDescriptorSet (the
 * target of `ce-dataschema`), `GET /healthz`, and Confluent Schema
 * Registry's REST API (docs/registry.md, "Confluent API"). Without TLS, HTTP/1.1 and
 * cleartext HTTP/2 (h2c, as gRPC clients use) share the port. The server
 * loads the registry into memory before it listens and answers every read
 * from that copy, which a watch on the KV bucket keeps current; writes
 * compare-and-set on the bucket, so any number of servers can share it.
 */
export async function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const log = options.log ?? (() => {});
  const storage = await openStorage(options);
  const maxSchemaBytes = Math.min(options.maxSchemaBytes ?? DEFAULT_MAX_SCHEMA_BYTES, storage.maxValueBytes ?? Infinity);
  const maxRequestBytes = maxRequestBytesFor(maxSchemaBytes);
  const auth = options.auth ?? { tokens: [] };
  let registry: Registry;
  try {
    registry = await openRegistry({
      store: storage.store,
      readOnly: options.readOnly ?? false,
      maxSchemaBytes,
      ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}),
      log,
    });
  } catch (err) {
    await storage.close();
    throw toConnectError(err);
  }
  const handler = createRegistryHandler({
    registry,
    auth: createAuthenticator(auth),
    anonymousRead: auth.anonymousRead === true || auth.anonymousAdmin === true,
    maxRequestBytes,
    fastReads: options.fastReads ?? true,
    log,
  });
  const listening = await listen(handler, { host: options.host ?? "127.0.0.1", port: options.port ?? 0, tls: options.tls }).catch(async (err: unknown) => {
    registry.close();
    await storage.close();
    throw err;
  });
  log(
    `registry: listening on ${listening.url} (${options.readOnly ? "read-only" : "read-write"}, ${auth.tokens.length} token(s), max schema ${maxSchemaBytes} bytes)`,
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await listening.close();
      registry.close();
      await storage.close();
    })());
  return { url: listening.url, port: listening.port, maxSchemaBytes, maxRequestBytes, registry, close, [Symbol.asyncDispose]: close };
}
