import { readFileSync } from "node:fs";
import { connect as natsConnect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { ChronicleError, ErrorCode } from "./errors.js";
import { translateNatsError } from "./nats-error.js";

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

function natsOptions(options: ConnectOptions): NodeConnectionOptions {
  const o: NodeConnectionOptions = {
    servers: options.servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.pass !== undefined ? { pass: options.pass } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
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

/** Wraps an existing nats.js connection (the caller keeps ownership of options). */
export async function wrapConnection(nc: NatsConnection, options: Pick<ConnectOptions, "domain" | "timeoutMs"> = {}): Promise<ChronicleConnection> {
  const jsOpts = { timeout: options.timeoutMs ?? 5000, ...(options.domain ? { domain: options.domain } : {}) };
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
  return conn;
}

/**
 * Connects to NATS (reconnecting forever on loss) and checks that JetStream
 * is enabled. Throws a {@link ChronicleError}: `unavailable` when no server
 * answers, `permission_denied` for rejected credentials.
 */
export async function connect(options: ConnectOptions): Promise<ChronicleConnection> {
  let nc: NatsConnection;
  try {
    nc = await natsConnect(natsOptions(options));
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    const denied = /authoriz|authenticat|permission/i.test(msg);
    throw new ChronicleError(denied ? ErrorCode.PermissionDenied : ErrorCode.Unavailable, `cannot connect to NATS at ${String(options.servers)}: ${msg}`, {
      cause: err,
    });
  }
  try {
    return await wrapConnection(nc, options);
  } catch (err) {
    await nc.close();
    const translated = translateNatsError(err, `JetStream at ${String(options.servers)}`);
    // no responders: JetStream is off; a timeout: it is there but busy (a leader election, for example)
    if (
      translated.code === ErrorCode.NoResponders ||
      /jetstream is not enabled|JetStreamNotEnabled/i.test(`${(err as Error).name} ${(err as Error).message}`)
    ) {
      throw new ChronicleError(ErrorCode.Unavailable, `NATS at ${String(options.servers)} has no JetStream (enable it with -js or a jetstream {} block)`, {
        cause: err,
      });
    }
    if (translated.code === ErrorCode.Timeout) {
      throw new ChronicleError(
        ErrorCode.Timeout,
        `JetStream at ${String(options.servers)} did not answer in time (during a leader election, retry): ${translated.message}`,
        {
          cause: err,
        },
      );
    }
    throw translated;
  }
}
