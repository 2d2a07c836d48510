import { isMessage } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { GetSchemaRequestSchema } from "../../gen/chronicle/registry/v1/registry_pb.js";
import type { Authenticator, Role } from "../../auth/tokens.js";
import type { Registry } from "../../service/registry.js";
import { immutableContentHeaders, STALENESS_HEADER } from "../response-headers.js";

/**
 * The role each RPC of chronicle.registry.v1.RegistryService needs, by
 * method name; an RPC missing here needs admin. Servers that forward the
 * registry's API (the console) check the same roles.
 */
export const REGISTRY_REQUIRED_ROLES: Readonly<Record<string, Role>> = {
  Register: "write",
  GetSchema: "read",
  GetVersion: "read",
  GetLatestVersion: "read",
  ListSubjects: "read",
  ListVersions: "read",
  CheckCompatibility: "read",
  GetConfig: "read",
  SetConfig: "admin",
  DeleteVersion: "admin",
  DeleteSubject: "admin",
};

/** Refuses a request whose bearer token lacks the role its RPC needs (`unauthenticated`, `permission_denied`). @private */
export function authorizeByRole(auth: Authenticator): Interceptor {
  return (next) => async (req) => {
    auth.authorize(req.header.get("authorization"), REGISTRY_REQUIRED_ROLES[req.method.name] ?? "admin");
    return next(req);
  };
}

/**
 * Adds {@link STALENESS_HEADER} to every answer, error or not, given while
 * the registry's in-memory copy is not known current. @private
 */
export function reportStaleness(registry: Registry): Interceptor {
  const stamp = (header: Headers) => {
    const staleness = registry.staleness();
    if (staleness !== undefined) header.set(STALENESS_HEADER, String(staleness));
  };
  return (next) => async (req) => {
    try {
      const res = await next(req);
      stamp(res.header);
      return res;
    } catch (err) {
      const ce = ConnectError.from(err);
      stamp(ce.metadata);
      throw ce;
    }
  };
}

/**
 * Marks a `GetSchema` called with HTTP GET (Connect's cacheable form) as
 * content that never changes: Cache-Control immutable and the id as ETag.
 * @private
 */
export function cacheSchemaReads(shared: boolean): Interceptor {
  return (next) => async (req) => {
    const res = await next(req);
    if (!req.stream && req.requestMethod === "GET" && isMessage(req.message, GetSchemaRequestSchema)) {
      for (const [name, value] of Object.entries(immutableContentHeaders(req.message.id, shared))) res.header.set(name, value);
    }
    return res;
  };
}
