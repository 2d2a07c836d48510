import { readFileSync } from "node:fs";
import { connect as natsConnect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { ChronicleError, ErrorCode } from "./errors.js";
import { isJetStreamMissing, translateNatsError } from "./nats-error.js";
import { attachWire, createWire, resolveWireKind } from "./wire/select-wire.js";
import type { WireKind } from "./wire/types.js";

/** How to reach NATS: URLs and credentials. Every field but `servers` is optional. */
export interface ConnectOptions {
  /** One URL or several (`nats://127.0.0.1:4222`); several for a cluster. */
  servers: string | string[];
  /** Client name shown in the server's monitoring. */
  name?: string;
  /** User and password authentication. */
  user?: string;
  pass?: string;
  /** Token authentication. */
  token?: string;
  /** Path of a `.creds` file (JWT + NKey seed), for decentralized auth. */
  credsFile?: string;
  /** NKey seed (`SU...`) for NKey authentication. */
  nkeySeed?: string;
  /** TLS: `caFile` to trust a private CA; `certFile`/`keyFile` for a client certificate. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** JetStream API prefix domain, for leaf-node setups. */
  domain?: string;
  /** Timeout of JetStream API requests and publish acks in ms; default 5000. */
  timeoutMs?: number;
  /**
   * How often the client pings its server, ms; default 10,000. A server
   * that stops answering without closing the connection (a black-hole
   * partition, a frozen host, a dead switch) is noticed only by pings: after
   * `maxPingsOut` unanswered ones the client drops the connection and
   * reconnects to another server, within about `(maxPingsOut + 1) ×
   * pingIntervalMs` of the cut (about 30 s by default). Publishes and
   * requests meanwhile wait or time out. nats.js's own default (2 minutes)
   * leaves such a client writing into a dead connection for 4-6 minutes.
   */
  pingIntervalMs?: number;
  /** Unanswered pings after which the connection is taken for dead (see `pingIntervalMs`); default 2. */
  maxPingsOut?: number;
  /**
   * How long connecting to one server may take before the next is tried,
   * ms; default 20,000 (nats.js's). A server behind a black hole accepts
   * nothing and refuses nothing, so each attempt to it lasts this long.
   */
  connectTimeoutMs?: number;
  /**
   * Prefix of the reply subjects of requests and of producers' and stores'
   * inboxes (for permissions that allow only some); default `_INBOX`.
   */
  inboxPrefix?: string;
  /**
   * How Chronicle's producers, consumers and stores talk to nats.js:
   * `internal` through nats.js 3.4's protocol handler and message internals
   * (faster), `public` through its public API only (any nats.js 3.x; see
   * docs/decisions/README.md for the figures). Default: the `CHRONICLE_WIRE`
   * environment variable, else `internal`.
   */
  wire?: WireKind;
}

/**
 * A live connection to NATS with its JetStream client and manager. Every
 * Chronicle runtime function takes one. Close it with `close()`, which
 * drains the connection.
 */
export interface ChronicleConnection extends AsyncDisposable {
  /** The underlying nats.js connection, for anything Chronicle does not wrap. */
  readonly nc: NatsConnection;
  /** JetStream client (publish, consume). */
  readonly js: JetStreamClient;
  /** JetStream manager (streams, consumers). */
  readonly jsm: JetStreamManager;
  /** Drains and closes the connection. */
  close(): Promise<void>;
}

/** Default of {@link ConnectOptions.pingIntervalMs}. */
const DEFAULT_PING_INTERVAL_MS = 10_000;
/** Default of {@link ConnectOptions.maxPingsOut}. */
const DEFAULT_MAX_PINGS_OUT = 2;
/** Default of {@link ConnectOptions.connectTimeoutMs}. */
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/** A positive integer option, or its default; throws `invalid_argument` naming the option. */
function positiveInteger(options: ConnectOptions, option: "pingIntervalMs" | "maxPingsOut" | "connectTimeoutMs", fallback: number): number {
  const value = options[option] ?? fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `${option} must be a positive integer, got ${String(value)}`, { context: { option } });
  }
  return value;
}

function natsOptions(options: ConnectOptions): NodeConnectionOptions {
  const o: NodeConnectionOptions = {
    servers: options.servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: positiveInteger(options, "pingIntervalMs", DEFAULT_PING_INTERVAL_MS),
    maxPingOut: positiveInteger(options, "maxPingsOut", DEFAULT_MAX_PINGS_OUT),
    timeout: positiveInteger(options, "connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT_MS),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.pass !== undefined ? { pass: options.pass } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.inboxPrefix !== undefined ? { inboxPrefix: options.inboxPrefix } : {}),
  };
  if (options.credsFile) o.authenticator = credsAuthenticator(readFileSync(options.credsFile));
  else if (options.nkeySeed) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed));
  if (options.tls) {
    o.tls = {
      ...(options.tls.caFile ? { caFile: options.tls.caFile } : {}),
      ...(options.tls.certFile ? { certFile: options.tls.certFile } : {}),
      ...(options.tls.keyFile ? { keyFile: options.tls.keyFile } : {}),
    };
  }
  return o;
}

/**
 * Wraps an existing nats.js connection (the caller keeps ownership of
 * options). With the `public` wire, pass the `inboxPrefix` the connection
 * was made with, if any: nats.js does not expose it publicly.
 */
export async function wrapConnection(
  nc: NatsConnection,
  options: Pick<ConnectOptions, "domain" | "timeoutMs" | "inboxPrefix" | "wire"> = {},
): Promise<ChronicleConnection> {
  const jsOpts = { timeout: options.timeoutMs ?? 5000, ...(options.domain ? { domain: options.domain } : {}) };
  const wire = createWire(nc, {
    ...(options.wire !== undefined ? { kind: options.wire } : {}),
    ...(options.inboxPrefix !== undefined ? { inboxPrefix: options.inboxPrefix } : {}),
  });
  const js = jetstream(nc, jsOpts);
  const jsm = await jetstreamManager(nc, jsOpts);
  const conn: ChronicleConnection = {
    nc,
    js,
    jsm,
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
    async [Symbol.asyncDispose]() {
      await conn.close();
    },
  };
  attachWire(conn, wire);
  return conn;
}

/**
 * Connects to NATS (reconnecting forever on loss, noticing a server that
 * stopped answering by its pings: see `pingIntervalMs`) and checks that
 * JetStream is enabled. Throws a {@link ChronicleError}: `unavailable` when
 * no server answers, `permission_denied` for rejected credentials,
 * `invalid_argument` for a bad option (before connecting).
 */
export async function connect(options: ConnectOptions): Promise<ChronicleConnection> {
  const wire = resolveWireKind(options.wire);
  const natsOpts = natsOptions(options);
  let nc: NatsConnection;
  try {
    nc = await natsConnect(natsOpts);
  } catch (err) {
    const denied = translateNatsError(err, "connect").code === ErrorCode.PermissionDenied;
    throw new ChronicleError(
      denied ? ErrorCode.PermissionDenied : ErrorCode.Unavailable,
      `cannot connect to NATS at ${String(options.servers)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  try {
    return await wrapConnection(nc, { ...options, wire });
  } catch (err) {
    await nc.close();
    if (isJetStreamMissing(err)) {
      throw new ChronicleError(ErrorCode.Unavailable, `NATS at ${String(options.servers)} has no JetStream (enable it with -js or a jetstream {} block)`, {
        cause: err,
      });
    }
    const translated = translateNatsError(err, `JetStream at ${String(options.servers)}`);
    // JetStream is there but busy (a leader election, for example)
    if (translated.code === ErrorCode.Timeout) {
      throw new ChronicleError(
        ErrorCode.Timeout,
        `JetStream at ${String(options.servers)} did not answer in time (during a leader election, retry): ${translated.message}`,
        { cause: err },
      );
    }
    throw translated;
  }
}
