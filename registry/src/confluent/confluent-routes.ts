import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Authenticator, Role } from "../auth/tokens.js";
import type { CompatibilityMode } from "../compat/types.js";
import { MODE_NAMES } from "../service/modes.js";
import { IncompatibleSchemaError, RegistryError } from "../service/registry-error.js";
import type { RegisteredVersion } from "../service/registry-reads.js";
import type { Registry } from "../service/registry.js";
import { checkMode, clearSubjectMode, effectiveMode, globalMode, refuseReadOnly, setMode, subjectMode } from "./access-modes.js";
import { ConfluentError, confluentCodes, toConfluentError } from "./confluent-error.js";
import { createIntegerIds, type IntegerIds } from "./integer-ids.js";
import { decodeConfluentSchema, encodeConfluentSchema, rootFile, type ConfluentSchemaBody } from "./schema-codec.js";
import type { NodeHandler } from "../server/http/plain-routes.js";

type NodeRequest = Parameters<NodeHandler>[0];
type NodeResponse = Parameters<NodeHandler>[1];

/** The content type of every answer, as Confluent's registry gives it. */
export const CONFLUENT_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/** What one request handler gets. */
interface Call {
  match: RegExpExecArray;
  query: URLSearchParams;
  body: () => Promise<Record<string, unknown>>;
}

/** What a handler answers: a JSON value (or a raw string with `raw`). */
interface Answer {
  status?: number;
  json?: unknown;
  raw?: string;
}

interface Route {
  method: string;
  path: RegExp;
  role: Role;
  handle(call: Call): Answer | Promise<Answer>;
}

/** Options of {@link createConfluentRoutes}. @private */
export interface ConfluentRoutesOptions {
  registry: Registry;
  auth: Authenticator;
  /** Largest request body read, in bytes. */
  maxRequestBytes: number;
}

/** The largest version number Confluent accepts. */
const MAX_VERSION = 2 ** 31 - 1;

function flag(query: URLSearchParams, name: string): boolean {
  return query.get(name) === "true";
}

function subjectOf(match: RegExpExecArray): string {
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    throw new ConfluentError(404, confluentCodes.subjectNotFound, `Subject '${match[1]}' not found.`);
  }
}

/** A version of a path: a number, `latest` or -1; 422/42202 otherwise. */
function versionOf(text: string): number | "latest" {
  if (text === "latest" || text === "-1") return "latest";
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_VERSION) {
    throw new ConfluentError(
      422,
      confluentCodes.invalidVersion,
      `The specified version '${text}' is not a valid version id. Allowed values are between [1, ${MAX_VERSION}] and the string "latest"`,
    );
  }
  return n;
}

function checkCompatibilityLevel(value: unknown): CompatibilityMode {
  if (typeof value === "string" && (MODE_NAMES as readonly string[]).includes(value)) return value as CompatibilityMode;
  throw new ConfluentError(422, confluentCodes.invalidCompatibilityLevel, `Invalid compatibility level. Valid values are: ${MODE_NAMES.join(", ")}`);
}

/**
 * Confluent Schema Registry's REST API over the registry: the same
 * subjects, versions, settings and tokens as the Connect API, schemas as
 * `.proto` text (or base64 descriptors), integer ids mapped one-to-one to
 * content ids, and errors as `{"error_code", "message"}`. Answers every
 * path it knows and passes the rest to `next`. See docs/registry.md,
 * "Confluent API".
 * @private
 */
export function createConfluentRoutes(options: ConfluentRoutesOptions, next: NodeHandler): NodeHandler {
  const { registry, auth } = options;
  const ids: IntegerIds = createIntegerIds(registry.edgeRecords);

  /** The integer id of a stored schema; one registered through the Connect API gets its id here, the first time this API answers it. */
  const numberOf = async (v: { id: string }) => {
    const known = ids.numberOf(v.id);
    if (known !== undefined) return known;
    if (registry.getConfig("").readOnly) {
      throw new ConfluentError(
        422,
        confluentCodes.operationNotPermitted,
        `schema ${v.id} has no integer id yet and the registry is read-only: a writable server gives it one`,
      );
    }
    return ids.assign(v.id, []);
  };

  /** The file name of the subject's latest version (soft-deleted ones included), so its versions keep one name; undefined for a new subject. */
  const fileNameFor = (subject: string): string | undefined => {
    const versions = safe(() => registry.listVersions(subject, { includeDeleted: true })) ?? [];
    const last = versions[versions.length - 1];
    if (last === undefined) return undefined;
    return rootFile(fromBinary(FileDescriptorSetSchema, registry.getVersion(subject, last, { includeDeleted: true }).schema)).name;
  };

  const versionView = async (v: RegisteredVersion, format: string | null) => {
    const id = await numberOf(v);
    const references = ids.lookup(id)?.references ?? [];
    return {
      subject: v.subject,
      version: v.version,
      id,
      schemaType: "PROTOBUF",
      ...(references.length > 0 ? { references } : {}),
      schema: encodeConfluentSchema(v.schema, format),
    };
  };

  const readVersion = (subject: string, version: number | "latest", deleted: boolean): RegisteredVersion => {
    if (version === "latest") return registry.getLatestVersion(subject);
    return registry.getVersion(subject, version, { includeDeleted: deleted });
  };

  /** The live version of `subject` whose schema is `body`'s, or undefined. */
  const findVersion = async (subject: string, body: ConfluentSchemaBody, deleted: boolean) => {
    const numbers = registry.listVersions(subject, { includeDeleted: deleted });
    const decoded = await decodeConfluentSchema(registry, subject, body, fileNameFor(subject));
    const report = registry.checkCompatibility(subject, decoded.bytes, { message: decoded.message });
    for (const n of numbers) {
      const v = registry.getVersion(subject, n, { includeDeleted: deleted });
      if (v.id === report.id) return v;
    }
    return undefined;
  };

  const register = async (subject: string, body: Record<string, unknown>, normalize: boolean) => {
    void normalize; // every stored schema is normalised already
    const mode = effectiveMode(registry, subject);
    if (mode === "READONLY") refuseReadOnly(registry, subject);
    const wantedId = body["id"] === undefined || body["id"] === -1 ? undefined : body["id"];
    const wantedVersion = body["version"] === undefined || body["version"] === -1 || body["version"] === 0 ? undefined : body["version"];
    if ((wantedId !== undefined || wantedVersion !== undefined) && mode !== "IMPORT") {
      throw new ConfluentError(422, confluentCodes.operationNotPermitted, `Subject ${subject} is not in import mode: an id or version cannot be given`);
    }
    if (wantedId !== undefined && (typeof wantedId !== "number" || !Number.isSafeInteger(wantedId) || wantedId < 1)) {
      throw new ConfluentError(422, confluentCodes.invalidSchema, "id must be a positive integer");
    }
    if (wantedVersion !== undefined && (typeof wantedVersion !== "number" || !Number.isSafeInteger(wantedVersion) || wantedVersion < 1)) {
      throw new ConfluentError(422, confluentCodes.invalidVersion, "version must be a positive integer");
    }
    const decoded = await decodeConfluentSchema(registry, subject, body, fileNameFor(subject));
    // the id is settled before the version exists, so no reader ever sees a version without its integer id
    const report = registry.checkCompatibility(subject, decoded.bytes, { message: decoded.message });
    const id = await ids.assign(report.id, decoded.references, wantedId as number | undefined);
    await registry.register(subject, decoded.bytes, {
      message: decoded.message,
      ...(wantedVersion !== undefined ? { version: wantedVersion as number } : {}),
      ...(mode === "IMPORT" ? { check: false } : {}),
    });
    return { json: { id } };
  };

  const compatibility = async (subject: string, version: number | "latest" | "all", body: Record<string, unknown>, verbose: boolean) => {
    const decoded = await decodeConfluentSchema(registry, subject, body, fileNameFor(subject));
    let against: number | undefined;
    if (version === "latest") against = registry.getLatestVersion(subject).version;
    else if (version !== "all") against = registry.getVersion(subject, version).version;
    const report = registry.checkCompatibility(subject, decoded.bytes, { message: decoded.message, ...(against !== undefined ? { against } : {}) });
    const messages = report.violations.map((v) => `${v.rule}: ${v.message} (${v.path}${v.againstVersion ? `, against version ${v.againstVersion}` : ""})`);
    return { json: { is_compatible: report.compatible, ...(verbose ? { messages } : {}) } };
  };

  const deleteVersion = async (subject: string, version: number | "latest", permanent: boolean) => {
    refuseReadOnly(registry, subject);
    const v = readVersion(subject, version, true);
    if (!permanent && v.deleted) {
      throw new ConfluentError(
        404,
        confluentCodes.versionSoftDeleted,
        `Subject '${subject}' Version ${v.version} was soft deleted. Set permanent=true to delete permanently`,
      );
    }
    if (permanent && !v.deleted) {
      throw new ConfluentError(
        404,
        confluentCodes.versionNotSoftDeleted,
        `Subject '${subject}' Version ${v.version} was not deleted first before being permanently deleted`,
      );
    }
    await registry.deleteVersion(subject, v.version, { permanent });
    return { json: v.version };
  };

  const deleteSubject = async (subject: string, permanent: boolean) => {
    refuseReadOnly(registry, subject);
    const all = registry.listVersions(subject, { includeDeleted: true });
    const live = safe(() => registry.listVersions(subject)) ?? [];
    if (!permanent && live.length === 0) {
      throw new ConfluentError(404, confluentCodes.subjectSoftDeleted, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`);
    }
    if (permanent && live.length > 0) {
      throw new ConfluentError(404, confluentCodes.subjectNotSoftDeleted, `Subject '${subject}' was not deleted first before being permanently deleted`);
    }
    const versions = await registry.deleteSubject(subject, { permanent });
    if (permanent) await clearSubjectMode(registry, subject);
    return { json: permanent ? all : versions };
  };

  const getConfig = (subject: string, defaultToGlobal: boolean) => {
    const config = registry.getConfig(subject);
    if (subject !== "" && config.inherited && !defaultToGlobal) {
      throw new ConfluentError(404, confluentCodes.subjectConfigNotFound, `Subject '${subject}' does not have subject-level compatibility configured`);
    }
    return { json: { compatibilityLevel: config.mode } };
  };

  const putConfig = async (subject: string, body: Record<string, unknown>) => {
    const mode = checkCompatibilityLevel(body["compatibility"] ?? body["compatibilityLevel"]);
    if (subject !== "") refuseReadOnly(registry, subject);
    await registry.setConfig({ subject, mode });
    return { json: { compatibility: mode } };
  };

  const deleteConfig = async (subject: string) => {
    const before = registry.getConfig(subject);
    if (subject === "") await registry.setConfig({ subject: "", mode: "FULL_TRANSITIVE" });
    else {
      if (before.inherited)
        throw new ConfluentError(404, confluentCodes.subjectConfigNotFound, `Subject '${subject}' does not have subject-level compatibility configured`);
      await registry.setConfig({ subject, clear: true });
    }
    return { json: { compatibilityLevel: before.mode } };
  };

  const getMode = (subject: string, defaultToGlobal: boolean) => {
    if (subject === "") return { json: { mode: globalMode(registry) } };
    const own = subjectMode(registry, subject);
    if (own === undefined && !defaultToGlobal)
      throw new ConfluentError(404, confluentCodes.subjectModeNotFound, `Subject '${subject}' does not have subject-level mode configured`);
    return { json: { mode: own ?? globalMode(registry) } };
  };

  const putMode = async (subject: string, body: Record<string, unknown>) => {
    const mode = checkMode(body["mode"]);
    await setMode(registry, subject, mode);
    return { json: { mode } };
  };

  const schemaById = (text: string) => {
    const n = Number(text);
    const record = Number.isSafeInteger(n) ? ids.lookup(n) : undefined;
    if (!record) throw new ConfluentError(404, confluentCodes.schemaNotFound, "Schema not found");
    let schema: Uint8Array;
    try {
      schema = registry.getSchema(record.schemaId);
    } catch (err) {
      if (err instanceof RegistryError && err.reason === "schema_not_found") throw new ConfluentError(404, confluentCodes.schemaNotFound, "Schema not found");
      throw err;
    }
    return { id: n, record, schema };
  };

  /** Every subject version that holds a schema id. */
  const versionsOf = (schemaId: string, deleted: boolean) =>
    registry.listSubjects({ includeDeleted: deleted }).flatMap((subject) =>
      registry
        .listVersions(subject, { includeDeleted: deleted })
        .filter((n) => registry.getVersion(subject, n, { includeDeleted: deleted }).id === schemaId)
        .map((version) => ({ subject, version })),
    );

  const S = "/subjects/(.+)";
  const routes: Route[] = [
    { method: "GET", path: /^\/schemas\/types\/?$/, role: "read", handle: () => ({ json: ["PROTOBUF"] }) },
    {
      method: "GET",
      path: /^\/schemas\/ids\/(-?[0-9]+)\/?$/,
      role: "read",
      handle: ({ match, query }) => {
        const { id, record, schema } = schemaById(match[1]!);
        const maxId = flag(query, "fetchMaxId")
          ? { maxId: Math.max(id, ...registry.edgeRecords.keys("edge.confluent.ids.").map((k) => Number(k.split(".").pop()))) }
          : {};
        return {
          json: {
            schemaType: "PROTOBUF",
            ...(record.references.length > 0 ? { references: record.references } : {}),
            schema: encodeConfluentSchema(schema, query.get("format")),
            ...maxId,
          },
        };
      },
    },
    {
      method: "GET",
      path: /^\/schemas\/ids\/(-?[0-9]+)\/versions\/?$/,
      role: "read",
      handle: ({ match, query }) => ({ json: versionsOf(schemaById(match[1]!).record.schemaId, flag(query, "deleted")) }),
    },
    {
      method: "GET",
      path: /^\/schemas\/ids\/(-?[0-9]+)\/subjects\/?$/,
      role: "read",
      handle: ({ match, query }) => ({ json: [...new Set(versionsOf(schemaById(match[1]!).record.schemaId, flag(query, "deleted")).map((v) => v.subject))] }),
    },
    {
      method: "GET",
      path: /^\/subjects\/?$/,
      role: "read",
      handle: ({ query }) => ({ json: registry.listSubjects({ includeDeleted: flag(query, "deleted") }) }),
    },
    {
      method: "GET",
      path: new RegExp(`^${S}/versions/?$`),
      role: "read",
      handle: ({ match, query }) => ({ json: registry.listVersions(subjectOf(match), { includeDeleted: flag(query, "deleted") }) }),
    },
    {
      method: "GET",
      path: new RegExp(`^${S}/versions/([^/]+)/schema/?$`),
      role: "read",
      handle: ({ match, query }) => ({
        raw: encodeConfluentSchema(readVersion(subjectOf(match), versionOf(match[2]!), flag(query, "deleted")).schema, query.get("format")),
      }),
    },
    {
      method: "GET",
      path: new RegExp(`^${S}/versions/([^/]+)/?$`),
      role: "read",
      handle: async ({ match, query }) => ({
        json: await versionView(readVersion(subjectOf(match), versionOf(match[2]!), flag(query, "deleted")), query.get("format")),
      }),
    },
    {
      method: "POST",
      path: new RegExp(`^${S}/versions/?$`),
      role: "write",
      handle: async ({ match, query, body }) => register(subjectOf(match), await body(), flag(query, "normalize")),
    },
    {
      method: "DELETE",
      path: new RegExp(`^${S}/versions/([^/]+)/?$`),
      role: "admin",
      handle: ({ match, query }) => deleteVersion(subjectOf(match), versionOf(match[2]!), flag(query, "permanent")),
    },
    {
      method: "POST",
      path: new RegExp(`^${S}/?$`),
      role: "read",
      handle: async ({ match, query, body }) => {
        const subject = subjectOf(match);
        const deleted = flag(query, "deleted");
        const found = await findVersion(subject, await body(), deleted);
        if (!found) throw new ConfluentError(404, confluentCodes.schemaNotFound, "Schema not found");
        return { json: await versionView(found, null) };
      },
    },
    { method: "DELETE", path: new RegExp(`^${S}/?$`), role: "admin", handle: ({ match, query }) => deleteSubject(subjectOf(match), flag(query, "permanent")) },
    {
      method: "POST",
      path: /^\/compatibility\/subjects\/(.+)\/versions\/([^/]+)\/?$/,
      role: "read",
      handle: async ({ match, query, body }) => compatibility(subjectOf(match), versionOf(match[2]!), await body(), flag(query, "verbose")),
    },
    {
      method: "POST",
      path: /^\/compatibility\/subjects\/(.+)\/versions\/?$/,
      role: "read",
      handle: async ({ match, query, body }) => compatibility(subjectOf(match), "all", await body(), flag(query, "verbose")),
    },
    { method: "GET", path: /^\/config\/?$/, role: "read", handle: () => getConfig("", true) },
    { method: "PUT", path: /^\/config\/?$/, role: "admin", handle: async ({ body }) => putConfig("", await body()) },
    { method: "DELETE", path: /^\/config\/?$/, role: "admin", handle: () => deleteConfig("") },
    { method: "GET", path: /^\/config\/(.+?)\/?$/, role: "read", handle: ({ match, query }) => getConfig(subjectOf(match), flag(query, "defaultToGlobal")) },
    { method: "PUT", path: /^\/config\/(.+?)\/?$/, role: "admin", handle: async ({ match, body }) => putConfig(subjectOf(match), await body()) },
    { method: "DELETE", path: /^\/config\/(.+?)\/?$/, role: "admin", handle: ({ match }) => deleteConfig(subjectOf(match)) },
    { method: "GET", path: /^\/mode\/?$/, role: "read", handle: () => getMode("", true) },
    { method: "PUT", path: /^\/mode\/?$/, role: "admin", handle: async ({ body }) => putMode("", await body()) },
    { method: "GET", path: /^\/mode\/(.+?)\/?$/, role: "read", handle: ({ match, query }) => getMode(subjectOf(match), flag(query, "defaultToGlobal")) },
    { method: "PUT", path: /^\/mode\/(.+?)\/?$/, role: "admin", handle: async ({ match, body }) => putMode(subjectOf(match), await body()) },
    {
      method: "DELETE",
      path: /^\/mode\/(.+?)\/?$/,
      role: "admin",
      handle: async ({ match }) => {
        const subject = subjectOf(match);
        const had = await clearSubjectMode(registry, subject);
        if (had === undefined)
          throw new ConfluentError(404, confluentCodes.subjectModeNotFound, `Subject '${subject}' does not have subject-level mode configured`);
        return { json: { mode: had } };
      },
    },
  ];

  const readBody = async (req: NodeRequest): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxRequestBytes) throw new ConfluentError(413, 413, `request body is over ${options.maxRequestBytes} bytes`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let parsed: unknown;
    try {
      parsed = text.trim() === "" ? {} : JSON.parse(text);
    } catch (err) {
      throw new ConfluentError(400, 400, `request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new ConfluentError(400, 400, "request body must be a JSON object");
    return parsed as Record<string, unknown>;
  };

  const send = (res: NodeResponse, status: number, body: string) => {
    const headers: Record<string, string> = { "content-type": CONFLUENT_CONTENT_TYPE, "content-length": String(Buffer.byteLength(body)) };
    const staleness = registry.staleness();
    if (staleness !== undefined) headers["chronicle-registry-stale-ms"] = String(staleness);
    res.writeHead(status, headers);
    res.end(body);
  };

  const serve = async (req: NodeRequest, res: NodeResponse, path: string, query: URLSearchParams) => {
    let answered = false;
    for (const route of routes) {
      const match = route.path.exec(path);
      if (!match) continue;
      if (route.method !== req.method && !(route.method === "GET" && req.method === "HEAD")) continue;
      answered = true;
      try {
        auth.authorize(req.headers["authorization"] ?? null, route.role);
        const answer = await route.handle({ match, query, body: () => readBody(req) });
        send(res, answer.status ?? 200, answer.raw ?? JSON.stringify(answer.json));
      } catch (err) {
        const e = err instanceof IncompatibleSchemaError ? new ConfluentError(409, confluentCodes.incompatible, err.rawMessage) : toConfluentError(err);
        if (!res.headersSent) send(res, e.status, JSON.stringify({ error_code: e.errorCode, message: e.message }));
        else res.end();
      }
      break;
    }
    if (!answered) {
      const known = routes.some((r) => r.path.test(path));
      if (known) send(res, 405, JSON.stringify({ error_code: 405, message: `HTTP method ${req.method} not allowed on ${path}` }));
      else next(req, res);
    }
  };

  return (req: NodeRequest, res: NodeResponse) => {
    const url = new URL(req.url ?? "/", "http://registry");
    if (!isConfluentPath(url.pathname)) return next(req, res);
    void serve(req, res, url.pathname, url.searchParams);
  };
}

/**
 * Whether a path is Confluent's: `/subjects`, `/config`, `/mode`,
 * `/compatibility`, `/schemas/types`, and `/schemas/ids/<integer>`
 * (Chronicle's own `/schemas/ids/sha256:<hex>` is not).
 */
export function isConfluentPath(path: string): boolean {
  return /^\/(subjects|config|mode|compatibility)(\/|$)/.test(path) || /^\/schemas\/(types\/?$|ids\/-?[0-9]+(\/|$))/.test(path);
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
