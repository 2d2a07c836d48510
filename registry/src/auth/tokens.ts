import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";

/** What a token may do. Each role includes the ones before it: read < write < admin. */
export type Role = "read" | "write" | "admin";

const ROLES: readonly Role[] = ["read", "write", "admin"];

/** A named bearer token and its role. */
export interface TokenEntry {
  /** Who holds the token; shown in logs instead of the token. */
  name: string;
  role: Role;
  token: string;
}

/** Who made a request, once authenticated. */
export interface Principal {
  /** The token's name, or `anonymous`. */
  name: string;
  role: Role | "none";
}

/** Options of {@link createAuthenticator}. */
export interface AuthOptions {
  tokens: readonly TokenEntry[];
  /** Requests without a token may read. Default false. */
  anonymousRead?: boolean;
  /** Requests without a token may do anything (local development only). Default false. */
  anonymousAdmin?: boolean;
}

/** Checks bearer tokens of requests. */
export interface Authenticator {
  /**
   * Checks the `Authorization` header value (`Bearer <token>`, or `Basic`
   * with `<name>:<token>` as Confluent's clients send it) against the role
   * `needed`.
   * Throws `unauthenticated` for a missing or unknown token and
   * `permission_denied` for a token whose role is too low; the token itself
   * never appears in a message.
   */
  authorize(authorization: string | null, needed: Role): Principal;
}

function tokenError(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function checkEntry(e: Partial<TokenEntry>, where: string): TokenEntry {
  if (typeof e.name !== "string" || !/^[\w.@-]{1,64}$/.test(e.name)) throw tokenError(`${where}: token name must be 1-64 of [A-Za-z0-9_.@-]`);
  if (!ROLES.includes(e.role as Role)) throw tokenError(`${where}: role of ${e.name} must be one of ${ROLES.join(", ")}`);
  if (typeof e.token !== "string" || e.token.length < 16) throw tokenError(`${where}: token of ${e.name} must be at least 16 characters`);
  return { name: e.name, role: e.role as Role, token: e.token };
}

/**
 * Parses `name:role:token,name:role:token` (the form of
 * `CHRONICLE_REGISTRY_TOKENS`). Tokens may contain `:`. Throws with the
 * entry's position, never its token, when an entry is malformed.
 */
export function parseTokens(spec: string): TokenEntry[] {
  return spec
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "" && !s.startsWith("#"))
    .map((entry, i) => {
      const [name, role, ...rest] = entry.split(":");
      return checkEntry({ name: name ?? "", role: role as Role, token: rest.join(":") }, `token entry ${i + 1}`);
    });
}

/**
 * Reads tokens from a file: a JSON array of `{ name, role, token }`, or
 * lines of `name:role:token` (`#` starts a comment line).
 */
export function loadTokensFile(path: string): TokenEntry[] {
  const text = readFileSync(path, "utf8");
  if (text.trimStart().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw tokenError(`${path}: not valid JSON`);
    }
    if (!Array.isArray(parsed)) throw tokenError(`${path}: expected an array of { name, role, token }`);
    return parsed.map((e, i) => checkEntry((e ?? {}) as Partial<TokenEntry>, `${path} entry ${i + 1}`));
  }
  return parseTokens(text);
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * The token of an Authorization header: `Bearer <token>`, or `Basic` with
 * base64 `<name>:<token>` (what Confluent's clients send for user info;
 * the name is not checked, the token alone decides).
 */
function presentedToken(authorization: string): string {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
  const decoded = basic ? Buffer.from(basic[1]!, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new ConnectError('the Authorization header must be "Bearer <token>" or "Basic <base64 of name:token>"', Code.Unauthenticated);
  return decoded.slice(colon + 1);
}

/**
 * Creates an {@link Authenticator}. Tokens are kept as SHA-256 digests and
 * compared with `crypto.timingSafeEqual` against every entry, so the time
 * taken says nothing about how much of a token matched or which one did.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const entries = options.tokens.map((t) => ({ name: t.name, role: t.role, hash: digest(t.token) }));
  return {
    authorize(authorization, needed) {
      if (!authorization) {
        if (options.anonymousAdmin || (options.anonymousRead && needed === "read")) return { name: "anonymous", role: "none" };
        throw new ConnectError(
          needed === "read" ? "a bearer token is required (Authorization: Bearer <token>)" : `a bearer token with role ${needed} is required for writes`,
          Code.Unauthenticated,
        );
      }
      const presented = digest(presentedToken(authorization));
      let found: (typeof entries)[number] | undefined;
      for (const e of entries) if (timingSafeEqual(e.hash, presented) && !found) found = e;
      if (!found) throw new ConnectError("the bearer token is not valid", Code.Unauthenticated);
      if (ROLES.indexOf(found.role) < ROLES.indexOf(needed)) {
        throw new ConnectError(`token ${found.name} has role ${found.role}; this operation needs ${needed}`, Code.PermissionDenied);
      }
      return { name: found.name, role: found.role };
    },
  };
}
