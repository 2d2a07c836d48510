import { fromBinary, fromJsonString, toBinary, toJsonString, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { contentTypeUnaryJson, contentTypeUnaryProto, parseContentType } from "@connectrpc/connect/protocol-connect";
import type { Authenticator } from "../../auth/tokens.js";
import {
  GetLatestVersionRequestSchema,
  GetLatestVersionResponseSchema,
  GetSchemaRequestSchema,
  GetSchemaResponseSchema,
  GetVersionRequestSchema,
  GetVersionResponseSchema,
  RegistryService,
} from "../../gen/chronicle/registry/v1/registry_pb.js";
import type { Registry } from "../../service/registry.js";
import type { NodeHandler } from "../http/plain-routes.js";
import { STALENESS_HEADER } from "../response-headers.js";
import { toSubjectVersion } from "./registry-service.js";

/** Largest request body the fast path reads; read requests are a few dozen bytes, larger ones go to connect-es. */
const MAX_READ_REQUEST_BYTES = 16 * 1024;

/** A Connect timeout header connect-es accepts (it refuses others); reads are answered at once, so its value does not matter. */
const VALID_TIMEOUT = /^\d{1,10}$/;

/** One read the fast path answers: how to decode its request, answer it and encode the answer. */
interface HotRead {
  /** The answer's bytes in the request's encoding; throws on a request that does not parse or a read that fails. */
  answer(registry: Registry, body: Uint8Array, json: boolean): Uint8Array;
}

function hotRead<I extends DescMessage, O extends DescMessage>(
  input: I,
  output: O,
  read: (registry: Registry, req: MessageShape<I>) => MessageInitShape<O>,
): HotRead {
  return {
    answer(registry, body, json) {
      const req = json ? fromJsonString(input, new TextDecoder().decode(body), { ignoreUnknownFields: false }) : fromBinary(input, body);
      const res = create(output, read(registry, req));
      return json ? new TextEncoder().encode(toJsonString(output, res)) : toBinary(output, res);
    },
  };
}

const servicePath = `/${RegistryService.typeName}/`;

/** The reads worth a fast path: the ones producers, consumers and tools make at run time. */
const hotReads = new Map<string, HotRead>([
  [
    `${servicePath}GetVersion`,
    hotRead(GetVersionRequestSchema, GetVersionResponseSchema, (registry, req) => ({
      version: toSubjectVersion(registry.getVersion(req.subject, req.version, { includeDeleted: req.includeDeleted })),
    })),
  ],
  [
    `${servicePath}GetLatestVersion`,
    hotRead(GetLatestVersionRequestSchema, GetLatestVersionResponseSchema, (registry, req) => ({
      version: toSubjectVersion(registry.getLatestVersion(req.subject)),
    })),
  ],
  [
    `${servicePath}GetSchema`,
    hotRead(GetSchemaRequestSchema, GetSchemaResponseSchema, (registry, req) => ({ id: req.id, schema: registry.getSchema(req.id) })),
  ],
]);

type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];

/**
 * The encoding of a request the fast path may answer: a Connect unary POST
 * in binary or JSON, uncompressed, with a valid timeout or none; undefined
 * for anything else.
 */
function plainUnaryEncoding(req: NodeRequest): "binary" | "json" | undefined {
  const h = req.headers;
  const type = parseContentType(h["content-type"] ?? null);
  if (!type || type.stream) return undefined;
  if (h["content-encoding"] !== undefined && h["content-encoding"] !== "identity") return undefined;
  if ((h["connect-protocol-version"] ?? "1") !== "1") return undefined;
  const timeout = h["connect-timeout-ms"];
  if (timeout !== undefined && !(typeof timeout === "string" && VALID_TIMEOUT.test(timeout))) return undefined;
  return type.binary ? "binary" : "json";
}

/** A request body read up to the fast path's limit: whole, or the chunks read so far and the rest of the stream. */
type ReadBody = { whole: Uint8Array } | { partial: AsyncIterable<Uint8Array> };

/** Reads a request body with plain stream events (an async iterator costs several event-loop turns a request). */
function readBody(req: NodeRequest): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length <= MAX_READ_REQUEST_BYTES) return;
      // too large for a read: stop here and hand what was read, then the rest, to connect-es
      req.off("data", onData).off("end", onEnd).pause();
      resolve({
        partial: (async function* () {
          yield* chunks;
          yield* req as AsyncIterable<Buffer>;
        })(),
      });
    };
    const onEnd = () => resolve({ whole: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
    req.on("data", onData).once("end", onEnd).once("error", reject);
  });
}

async function* iterableOf(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** Options of {@link serveHotReads}. @private */
export interface HotReadsOptions {
  registry: Registry;
  auth: Authenticator;
  /** connect-es's handler of each RPC path, for the requests the fast path hands over after reading them. */
  connectHandlers(): ReadonlyMap<string, UniversalHandler>;
  /** What serves every other request: connect-node's adapter. */
  next: NodeHandler;
}

/**
 * A fast path for the registry's run-time reads (`GetVersion`,
 * `GetLatestVersion`, `GetSchema`) sent as plain Connect unary POSTs
 * (binary or JSON, uncompressed, no timeout): it reads the body, checks the
 * token and answers from the in-memory copy with one write, without
 * connect-es's per-request machinery (abort controllers, async iterables,
 * interceptor chain), which costs several times the read itself. It only
 * ever answers successes: a request it does not take, and one that fails
 * (a token refused, a body that does not parse, a subject not found), goes
 * to connect-es, which answers it exactly as it answers every other
 * request. Answers are the bytes connect-es would send, uncompressed.
 * @private
 */
export function serveHotReads(options: HotReadsOptions): NodeHandler {
  const { registry, auth } = options;
  const handOver = async (req: NodeRequest, res: NodeResponse, body: AsyncIterable<Uint8Array>) => {
    const handler = options.connectHandlers().get(req.url ?? "")!;
    const uRes = await handler({ ...universalRequestFromNodeRequest(req, res, undefined, undefined), body });
    await universalResponseToNodeResponse(uRes, res);
  };
  const answer = (req: NodeRequest, res: NodeResponse, read: HotRead, json: boolean, body: Uint8Array) => {
    let out: Uint8Array;
    try {
      auth.authorize(req.headers["authorization"] ?? null, "read");
      out = read.answer(registry, body, json);
    } catch {
      return handOver(req, res, iterableOf(body));
    }
    const headers: Record<string, string> = { "content-type": json ? contentTypeUnaryJson : contentTypeUnaryProto, "content-length": String(out.byteLength) };
    const staleness = registry.staleness();
    if (staleness !== undefined) headers[STALENESS_HEADER] = String(staleness);
    res.writeHead(200, headers);
    res.end(out);
    return undefined;
  };
  return (req, res) => {
    const read = req.method === "POST" ? hotReads.get(req.url ?? "") : undefined;
    const encoding = read && plainUnaryEncoding(req);
    if (!read || !encoding) {
      options.next(req, res);
      return;
    }
    readBody(req)
      .then((body) => ("whole" in body ? answer(req, res, read, encoding === "json", body.whole) : handOver(req, res, body.partial)))
      .catch(() => {
        // the client went away while the body was read or the answer written
        res.destroy();
      });
  };
}
