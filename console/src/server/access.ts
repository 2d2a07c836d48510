import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { createAuthenticator, REGISTRY_REQUIRED_ROLES, type AuthOptions, type Role } from "@chronicle/registry";

/** Who made a request, with the role the console grants it. */
export interface Caller {
  /** The token's name, or `anonymous`. */
  name: string;
  role: Role;
}

/** Where the access interceptor leaves the caller for the handlers. @private */
export const callerKey = createContextKey<Caller>({ name: "anonymous", role: "read" }, { description: "console caller" });

/**
 * The role each RPC needs, by method name, for both services the console
 * serves. Reads need `read`; sending events again (redrive, republish) and
 * registering schemas need `write`; what deletes or moves state (purge,
 * rewind, settings, deleting schemas) needs `admin`. A method missing here
 * needs `admin`, so a new RPC is closed until it is listed.
 */
export const REQUIRED_ROLE: Readonly<Record<string, Role>> = {
  // chronicle.console.v1.OperationsService
  GetSession: "read",
  WatchStatus: "read",
  ListSchemaSubjects: "read",
  DiffVersions: "read",
  DryRun: "read",
  ListStreams: "read",
  WatchStreams: "read",
  GetStream: "read",
  BrowseMessages: "read",
  GetMessage: "read",
  ListGroups: "read",
  WatchGroup: "read",
  PreviewRewind: "read",
  RewindGroup: "admin",
  ListDeadLetters: "read",
  RedriveDeadLetters: "write",
  PurgeDeadLetters: "admin",
  Republish: "write",
  ListAudit: "read",
  // chronicle.registry.v1.RegistryService, as the console serves it: the registry's own roles
  ...REGISTRY_REQUIRED_ROLES,
};

/**
 * The interceptor that checks every request's bearer token against the
 * role its method needs (with the registry's authenticator: tokens kept as
 * digests, compared in constant time, never logged) and records the caller
 * for the handlers. An anonymous request gets the role the options allow.
 */
export function accessInterceptor(options: AuthOptions): Interceptor {
  const auth = createAuthenticator(options);
  const anonymousRole: Role = options.anonymousAdmin ? "admin" : "read";
  return (next) => async (req) => {
    const principal = auth.authorize(req.header.get("authorization"), REQUIRED_ROLE[req.method.name] ?? "admin");
    req.contextValues.set(callerKey, { name: principal.name, role: principal.role === "none" ? anonymousRole : principal.role });
    return next(req);
  };
}

/** The caller of a request (set by {@link accessInterceptor}). */
export function callerOf(ctx: HandlerContext): Caller {
  return ctx.values.get(callerKey);
}

/** Throws `invalid_argument` unless the user typed exactly `expected` to confirm a destructive action. */
export function requireConfirmation(confirm: string, expected: string): void {
  if (confirm !== expected) {
    throw new ConnectError(
      `this action must be confirmed: send confirm ${JSON.stringify(expected)}${confirm ? `, got ${JSON.stringify(confirm)}` : ""}`,
      Code.InvalidArgument,
    );
  }
}
