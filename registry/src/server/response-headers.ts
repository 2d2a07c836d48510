/**
 * Response header of every answer given while the server's in-memory copy
 * of the registry is not known current (the NATS connection is down, or the
 * watch on the bucket is restarting or behind): how many milliseconds the
 * copy may be behind storage. Absent while the copy is current.
 */
export const STALENESS_HEADER = "chronicle-registry-stale-ms";

/** One year: what HTTP caches take as "forever". */
const ONE_YEAR_S = 365 * 24 * 3600;

/**
 * Headers of a content-addressed answer (a schema by id): its content
 * never changes, so caches may keep it forever without asking again. The
 * ETag is the schema id. `shared` lets shared caches (proxies, CDNs) keep
 * it; without anonymous reads it is `private`, so a shared cache never hands
 * a schema to a client without a token.
 * @private
 */
export function immutableContentHeaders(id: string, shared: boolean): Record<string, string> {
  return { "cache-control": `${shared ? "public" : "private"}, max-age=${ONE_YEAR_S}, immutable`, etag: `"${id}"` };
}
