import type { ConnectError } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { Authenticator } from "../../auth/tokens.js";
import type { Registry } from "../../service/registry.js";
import { RegistryError, toConnectError } from "../../service/registry-error.js";
import { immutableContentHeaders, STALENESS_HEADER } from "../response-headers.js";

/** A Node request handler, as connect-node's adapter calls its fallback. @private */
export type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];

const SCHEMA_BY_ID = "/schemas/ids/";

/** Options of {@link createPlainRoutes}. */
interface PlainRoutesOptions {
  registry: Registry;
  auth: Authenticator;
  /** Reads need no token, so shared caches may keep schemas. */
  anonymousRead: boolean;
}

/** A schema id from the path after `/schemas/ids/`; `invalid_schema_id` when it is not valid percent-encoding. */
function schemaIdOf(path: string): string {
  const raw = path.slice(SCHEMA_BY_ID.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RegistryError("invalid_schema_id", `schema id ${JSON.stringify(raw.slice(0, 100))} is not valid percent-encoding`);
  }
}

/** Whether an If-None-Match header names `etag` (or is `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

/**
 * The plain HTTP paths the registry serves beside its Connect API, as
 * connect-node's fallback for requests that name no RPC:
 *
 * - `GET`/`HEAD /schemas/ids/<id>`: the binary FileDescriptorSet of a
 *   schema id (the target of `ce-dataschema`), cacheable forever with the
 *   id as ETag; `If-None-Match` answers 304. Needs a read token unless
 *   reads are anonymous.
 * - `GET`/`HEAD /healthz`: `ok`, or how stale the server's copy may be.
 *
 * Errors are Connect's JSON error body with its HTTP status; anything else
 * is 404. HEAD answers like GET without the body.
 * @private
 */
export function createPlainRoutes(options: PlainRoutesOptions): NodeHandler {
  const { registry, auth } = options;

  const send = (req: NodeRequest, res: NodeResponse, status: number, headers: Record<string, string>, body: Uint8Array | string) => {
    const staleness = registry.staleness();
    if (staleness !== undefined) headers[STALENESS_HEADER] = String(staleness);
    res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };

  const sendError = (req: NodeRequest, res: NodeResponse, err: ConnectError) =>
    send(req, res, codeToHttpStatus(err.code), { "content-type": "application/json" }, errorToJsonBytes(err, undefined));

  const serveSchema = (req: NodeRequest, res: NodeResponse, path: string) => {
    auth.authorize(req.headers["authorization"] ?? null, "read");
    const id = schemaIdOf(path);
    const schema = registry.getSchema(id);
    const headers = immutableContentHeaders(id, options.anonymousRead);
    if (matches(req.headers["if-none-match"], headers.etag!)) {
      send(req, res, 304, headers, "");
      return;
    }
    send(req, res, 200, { ...headers, "content-type": "application/x-protobuf; messageType=google.protobuf.FileDescriptorSet" }, schema);
  };

  const serveHealth = (req: NodeRequest, res: NodeResponse) => {
    const staleness = registry.staleness();
    send(req, res, 200, { "content-type": "text/plain" }, staleness === undefined ? "ok\n" : `ok, stale: the copy may be ${staleness} ms behind storage\n`);
  };

  return (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const readable = req.method === "GET" || req.method === "HEAD";
    try {
      if (readable && path.startsWith(SCHEMA_BY_ID)) serveSchema(req, res, path);
      else if (readable && path === "/healthz") serveHealth(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    } catch (err) {
      sendError(req, res, toConnectError(err));
    }
  };
}
