// A request body that does not parse is the caller's mistake. connect-es
// reads and parses a request before any interceptor runs, and answers a
// protobuf binary body that does not parse with `internal` (a JSON body is
// already `invalid_argument`). This module answers such a request with
// `invalid_argument` naming the request type, in each protocol's own form:
// the Connect JSON error body with HTTP 400, the gRPC trailer, the gRPC-Web
// trailer frame. It tells a read failure from a failure of the service by
// where the request got to, never by the error's wording: an interceptor
// placed first marks the requests that were read and dispatched, and only an
// `internal` error of a request that never got that far is rewritten.

import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type Interceptor } from "@connectrpc/connect";
import {
  encodeEnvelope,
  readAllBytes,
  transformSplitEnvelope,
  type Compression,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/** Set by {@link markDispatched} once a request has been read and parsed and reaches the interceptors. */
const dispatched = createContextKey(false, { description: "chronicle: the request reached the interceptors" });

/** Largest error response read back; one is a few hundred bytes. */
const MAX_ERROR_BYTES = 1024 * 1024;

/**
 * An interceptor that records that a request was read, parsed and
 * dispatched. Put it first in the interceptor list of handlers wrapped with
 * {@link answerUnreadableRequests}.
 * @private
 */
export const markDispatched: Interceptor = (next) => (req) => {
  req.contextValues.set(dispatched, true);
  return next(req);
};

/**
 * The error to answer instead of `err` for a request of `method` that failed
 * before it was dispatched: `invalid_argument` "request body is not a valid
 * <request type>: <what connect-es said>" ("request message" for a Connect
 * GET, which carries it in the query) when `err` is `internal`, which
 * before dispatch can only come from reading the request; `undefined` for
 * every other error, which is answered as it is.
 */
function unreadableRequestError(method: DescMethod, err: ConnectError, httpMethod: string): ConnectError | undefined {
  if (err.code !== Code.Internal) return undefined;
  const what = httpMethod === "GET" ? "request message" : "request body";
  return new ConnectError(`${what} is not a valid ${method.input.typeName}: ${err.rawMessage}`, Code.InvalidArgument, undefined, undefined, err);
}

/**
 * Wraps a connect-es universal handler so that a request that could not be
 * read (a protobuf binary body that does not parse) is answered with
 * `invalid_argument` (HTTP 400 in the Connect protocol) instead of
 * connect-es's `internal` (HTTP 500). Only requests that failed before
 * reaching {@link markDispatched} are looked at, so an error raised by the
 * service itself is never rewritten. `compressions` are the encodings the
 * handler may compress an error body with (its `acceptCompression`).
 * @private
 */
export function answerUnreadableRequests(handler: UniversalHandler, compressions: readonly Compression[]): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const contextValues = req.contextValues ?? createContextValues();
    const res = await handler({ ...req, contextValues });
    if (contextValues.get(dispatched)) return res;
    const map = (err: ConnectError) => unreadableRequestError(handler.method, err, req.method);
    const contentType = res.header?.get("content-type") ?? "";
    if (res.trailer?.has("grpc-status")) return mapGrpc(res, res.trailer, map);
    if (contentType.startsWith("application/grpc-web")) return mapGrpcWeb(res, map);
    if (res.status >= 400 && contentType.startsWith("application/json")) return mapConnect(res, compressions, map);
    return res;
  };
  return Object.assign(wrapped, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    supportedContentType: handler.supportedContentType,
    allowedMethods: handler.allowedMethods,
  });
}

type MapError = (err: ConnectError) => ConnectError | undefined;

/** gRPC: the status is in the trailers, which are complete once a failed request's response resolves. */
function mapGrpc(res: UniversalServerResponse, trailer: Headers, map: MapError): UniversalServerResponse {
  const err = findTrailerError(trailer);
  const mapped = err && map(err);
  if (mapped) setTrailerStatus(trailer, mapped);
  return res;
}

/** gRPC-Web: the status is in the trailer frame at the end of the body; a request that failed before dispatch has nothing else. */
async function mapGrpcWeb(res: UniversalServerResponse, map: MapError): Promise<UniversalServerResponse> {
  if (!res.body) return res;
  const frames: Uint8Array[] = [];
  for await (const envelope of transformSplitEnvelope(MAX_ERROR_BYTES)(res.body)) {
    let data = envelope.data;
    if (envelope.flags === trailerFlag) {
      const trailer = trailerParse(data);
      const err = findTrailerError(trailer);
      const mapped = err && map(err);
      if (mapped) data = trailerSerialize(setTrailerStatus(trailer, mapped));
    }
    frames.push(encodeEnvelope(envelope.flags, data));
  }
  return { ...res, body: iterableOf(frames) };
}

/** Connect: a JSON error body with an HTTP status; compressed when large and the client accepts it. */
async function mapConnect(res: UniversalServerResponse, compressions: readonly Compression[], map: MapError): Promise<UniversalServerResponse> {
  if (!res.body) return res;
  let body = await readAllBytes(res.body, MAX_ERROR_BYTES);
  const encoding = res.header?.get("content-encoding");
  if (encoding) {
    const compression = compressions.find((c) => c.name === encoding);
    if (!compression) return { ...res, body: iterableOf([body]) };
    body = await compression.decompress(body, MAX_ERROR_BYTES);
  }
  const err = errorFromJsonBytes(body, undefined, new ConnectError("unreadable error body", Code.Unknown));
  const mapped = map(err);
  const out = mapped ? errorToJsonBytes(mapped, undefined) : body;
  const header = new Headers(res.header);
  header.delete("content-encoding");
  header.set("content-length", String(out.byteLength));
  return { ...res, status: mapped ? codeToHttpStatus(mapped.code) : res.status, header, body: iterableOf([out]) };
}

async function* iterableOf(chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}
