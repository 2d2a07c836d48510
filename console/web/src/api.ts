import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { RegistryService } from "@chronicle/registry/gen/chronicle/registry/v1/registry_pb.js";
import { OperationsService } from "../../src/gen/chronicle/console/v1/console_pb.js";

const TOKEN_KEY = "chronicle-console-token";

/** The bearer token of this tab (kept for the session only). */
export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(value: string): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const auth: Interceptor = (next) => (req) => {
  const t = token();
  if (t) req.header.set("authorization", `Bearer ${t}`);
  return next(req);
};

const transport = createConnectTransport({ baseUrl: location.origin + location.pathname.replace(/\/[^/]*$/, ""), useBinaryFormat: true, interceptors: [auth] });

/** The console's operations API. */
export const ops = createClient(OperationsService, transport);
/** The schema registry's API, as the console serves it. */
export const registry = createClient(RegistryService, transport);

/** A failure as one line for people: the server's message and, for access problems, what to do. */
export function describeError(err: unknown): string {
  const ce = ConnectError.from(err);
  switch (ce.code) {
    case Code.Unauthenticated:
      return `${ce.rawMessage}: sign in with a console token`;
    case Code.PermissionDenied:
      return `not allowed: ${ce.rawMessage}`;
    case Code.Unavailable:
      return `unavailable: ${ce.rawMessage}`;
    default:
      return ce.rawMessage || String(err);
  }
}

export function isAuthError(err: unknown): boolean {
  const c = ConnectError.from(err).code;
  return c === Code.Unauthenticated;
}

export function isAborted(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}
