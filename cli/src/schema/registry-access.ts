import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { createRegistryClient, violationsOf, type CompatibilityCheck, type RegistryConfig, type RegistryClient, type Violation } from "@chronicle/registry";
import { UsageError } from "../framework/command.js";

/** One registered version with its schema bytes. */
export interface HistoryEntry {
  version: number;
  id: string;
  schema: Uint8Array;
}

/** Outcome of one registration. */
export type RegisterOutcome = { ok: true; version: number; id: string; created: boolean } | { ok: false; violations: Violation[] };

/**
 * The registry calls the schema commands make, with every failure other
 * than "not found" and "incompatible" turned into a plain {@link UsageError}
 * (exit 2) that says what to do: unreachable, refused token, bad input.
 */
export interface RegistryAccess extends Disposable {
  readonly url: string;
  listSubjects(): Promise<string[]>;
  /** Live versions, oldest first; empty for an unknown subject. */
  listVersions(subject: string): Promise<number[]>;
  /** Live versions with their schemas, oldest first; empty for an unknown subject. */
  history(subject: string): Promise<HistoryEntry[]>;
  getConfig(subject: string): Promise<RegistryConfig>;
  checkCompatibility(subject: string, schema: FileDescriptorSet): Promise<CompatibilityCheck>;
  register(subject: string, schema: FileDescriptorSet): Promise<RegisterOutcome>;
}

/** Options of {@link openRegistry}. */
export interface OpenRegistryOptions {
  url: string;
  token?: string;
}

function translate(url: string, what: string, err: unknown): Error {
  if (err instanceof UsageError) return err;
  const ce = ConnectError.from(err);
  switch (ce.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Unknown:
      return new UsageError(`cannot reach the registry at ${url} (${what}): ${ce.rawMessage}`);
    case Code.Unimplemented:
      return new UsageError(`${url} does not answer as a Chronicle registry (${what}): ${ce.rawMessage}; is the URL the registry's base URL?`);
    case Code.Unauthenticated:
      return new UsageError(`the registry at ${url} needs a token (${what}): pass --token or set $CHRONICLE_REGISTRY_TOKEN`);
    case Code.PermissionDenied:
      return new UsageError(`the registry at ${url} refused the token (${what}): ${ce.rawMessage}`);
    default:
      return new UsageError(`the registry at ${url} refused ${what}: ${ce.rawMessage} [${Code[ce.code]}]`);
  }
}

function isNotFound(err: unknown): boolean {
  return ConnectError.from(err).code === Code.NotFound;
}

/** Connects the schema commands to a registry (Connect protocol, binary). */
export function openRegistry(options: OpenRegistryOptions): RegistryAccess {
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new UsageError(`--registry must be an http:// or https:// URL, got ${JSON.stringify(options.url)}`);
  }
  const base = options.url.replace(/\/+$/, "");
  const client: RegistryClient = createRegistryClient({ baseUrl: base, ...(options.token ? { token: options.token } : {}) });
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw translate(base, what, err);
    }
  };
  const listVersions = (subject: string) =>
    call(`listing the versions of ${subject}`, async () => {
      try {
        return await client.listVersions(subject);
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
    });
  return {
    url: base,
    [Symbol.dispose]: () => client.close(),
    listSubjects: () => call("listing subjects", () => client.listSubjects()),
    listVersions,
    history: async (subject) => {
      const out: HistoryEntry[] = [];
      for (const version of await listVersions(subject)) {
        const v = await call(`reading ${subject} version ${version}`, () => client.getVersion(subject, version));
        out.push({ version: v.version, id: v.id, schema: v.schema });
      }
      return out;
    },
    getConfig: (subject) => call(`reading the settings of ${subject}`, () => client.getConfig(subject)),
    checkCompatibility: (subject, schema) => call(`the check of ${subject}`, () => client.checkCompatibility(subject, schema)),
    register: (subject, schema) =>
      call(`the registration of ${subject}`, async () => {
        try {
          const r = await client.register(subject, schema);
          return { ok: true as const, ...r };
        } catch (err) {
          const violations = violationsOf(err);
          if (violations) return { ok: false as const, violations };
          throw err;
        }
      }),
  };
}
