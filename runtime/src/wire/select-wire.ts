import type { NatsConnection } from "@nats-io/transport-node";
import { ChronicleError, ErrorCode } from "../errors.js";
import { InternalWire } from "./internal-wire.js";
import { protocolOf } from "./nats-internals.js";
import { PublicWire } from "./public-wire.js";
import { WIRE_ENV, type Wire, type WireKind } from "./types.js";

/** How to make a connection's {@link Wire}. */
export interface WireOptions {
  /** Which implementation; default from `CHRONICLE_WIRE`, else `internal`. */
  kind?: WireKind;
  /** Prefix of reply inboxes; default the connection's own (nats.js `inboxPrefix`), else `_INBOX`. */
  inboxPrefix?: string;
}

/**
 * The {@link WireKind} asked for: `kind` when given, else the
 * `CHRONICLE_WIRE` environment variable, else `internal`. Throws
 * `invalid_argument` for any other value.
 */
export function resolveWireKind(kind: string | undefined = process.env[WIRE_ENV]): WireKind {
  if (kind === undefined || kind === "" || kind === "internal") return "internal";
  if (kind === "public") return "public";
  throw new ChronicleError(ErrorCode.InvalidArgument, `wire must be "internal" or "public", got ${JSON.stringify(kind)}`, {
    context: { option: "wire", env: WIRE_ENV },
  });
}

/**
 * Makes a {@link Wire} for `nc`. The internal one is made only when
 * nats.js's protocol handler has the shape it writes to; otherwise (another
 * nats.js) the public one is, and its `kind` says so.
 */
export function createWire(nc: NatsConnection, options: WireOptions = {}): Wire {
  const kind = resolveWireKind(options.kind);
  const protocol = kind === "internal" ? protocolOf(nc) : undefined;
  return protocol ? new InternalWire(nc, protocol, options.inboxPrefix) : new PublicWire(nc, options.inboxPrefix);
}

const wires = new WeakMap<object, Wire>();

/** Gives a connection object its {@link Wire}: what {@link wireOf} returns for it. */
export function attachWire(conn: { readonly nc: NatsConnection }, wire: Wire): void {
  wires.set(conn, wire);
}

/**
 * The {@link Wire} of a Chronicle connection: the one `connect` or
 * `wrapConnection` made, or, for any other object holding a nats.js
 * connection, one made with the defaults on first use.
 */
export function wireOf(conn: { readonly nc: NatsConnection }): Wire {
  let wire = wires.get(conn);
  if (wire === undefined) {
    wire = createWire(conn.nc);
    wires.set(conn, wire);
  }
  return wire;
}
