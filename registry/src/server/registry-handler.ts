import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import type { Authenticator } from "../auth/tokens.js";
import { RegistryService } from "../gen/chronicle/registry/v1/registry_pb.js";
import type { Registry } from "../service/registry.js";
import { serveHotReads } from "./connect/hot-reads.js";
import { authorizeByRole, cacheSchemaReads, reportStaleness } from "./connect/interceptors.js";
import { createRegistryService } from "./connect/registry-service.js";
import { answerUnreadableRequests, markDispatched } from "./connect/unreadable-requests.js";
import { createConfluentRoutes } from "../confluent/confluent-routes.js";
import { createPlainRoutes, type NodeHandler } from "./http/plain-routes.js";

/** Room in a request for what surrounds the schema: the subject, field tags, JSON keys and quotes. */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

/**
 * The largest request body accepted for a registry whose schemas may be
 * `maxSchemaBytes` long: room for such a schema in base64 (Connect JSON
 * carries bytes as base64, 4 characters per 3 bytes) plus 64 KiB. The
 * schema limit itself applies to the decoded bytes, in every encoding, so
 * a schema is accepted or refused for its size alone, whether it came as
 * JSON or binary.
 */
export function maxRequestBytesFor(maxSchemaBytes: number): number {
  return 4 * Math.ceil(maxSchemaBytes / 3) + REQUEST_OVERHEAD_BYTES;
}

/** Options of {@link createRegistryHandler}. @private */
export interface RegistryHandlerOptions {
  registry: Registry;
  auth: Authenticator;
  /** Reads need no token (lets shared caches keep schemas). */
  anonymousRead: boolean;
  /** Largest request body accepted; larger ones are refused with `resource_exhausted`. */
  maxRequestBytes: number;
  /** Answer plain Connect POSTs of GetVersion, GetLatestVersion and GetSchema on the fast path (see serveHotReads). */
  fastReads: boolean;
  /** Where a request that failed outside connect-es's own error handling is reported. */
  log: (line: string) => void;
}

/**
 * The registry's HTTP handler, for Node's HTTP/1.1 and HTTP/2 servers:
 * connect-node's adapter serves `chronicle.registry.v1.RegistryService`
 * (Connect JSON and binary, gRPC, gRPC-Web), and every other path falls
 * back to Confluent's REST API (`/subjects`, `/config`, `/mode`,
 * `/compatibility`, `/schemas/ids/<integer>`, `/schemas/types`), then to
 * the plain HTTP routes (`/schemas/ids/sha256:<hex>`, `/healthz`).
 * @private
 */
export function createRegistryHandler(options: RegistryHandlerOptions): NodeHandler {
  const acceptCompression = [compressionGzip, compressionBrotli];
  let connectHandlers: ReadonlyMap<string, UniversalHandler> = new Map();
  const routes = (router: ConnectRouter) => {
    router.service(RegistryService, createRegistryService(options.registry));
    // connect-node serves the router's handlers as they are when routes() returns: wrap them in place
    router.handlers.splice(0, router.handlers.length, ...router.handlers.map((h) => answerUnreadableRequests(h, acceptCompression)));
    connectHandlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  };
  const connectHandler = connectNodeAdapter({
    routes,
    fallback: createConfluentRoutes(options, createPlainRoutes(options)),
    acceptCompression,
    readMaxBytes: options.maxRequestBytes,
    // markDispatched first: an error answered for a request that never reached it happened while the request was read
    interceptors: [markDispatched, reportStaleness(options.registry), authorizeByRole(options.auth), cacheSchemaReads(options.anonymousRead)],
    // an unknown field or enum name is a mistake worth an invalid_argument, not silence
    jsonOptions: { ignoreUnknownFields: false },
  });
  const handler = options.fastReads
    ? serveHotReads({ registry: options.registry, auth: options.auth, connectHandlers: () => connectHandlers, next: connectHandler })
    : connectHandler;
  return (req, res) => {
    // connect-node throws, outside any promise, for a request it cannot name a URL for (HTTP/1.0 without Host):
    // answered here, that is a 400 instead of an exception no one catches
    if (req.headers.host === undefined && !("authority" in req)) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("a Host header is required\n");
      return;
    }
    try {
      handler(req, res);
    } catch (err) {
      options.log(`registry: ${req.method ?? "?"} ${(req.url ?? "").slice(0, 100)} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  };
}
