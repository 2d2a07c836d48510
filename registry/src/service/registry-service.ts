import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { CompatibilityMode, RuleCategory, SchemaVersion, Violation } from "../compat/types.js";
import {
  CompatibilityViolationsSchema,
  type RegistryService,
  SubjectVersionSchema,
  type GetConfigResponse,
  GetConfigResponseSchema,
  type SubjectVersion,
  type Violation as WireViolation,
  ViolationSchema,
} from "../gen/chronicle/registry/v1/registry_pb.js";
import { SchemaValidationError } from "../compat/errors.js";
import { StoreUnavailableError, type RegistryStore } from "../storage/store.js";
import { defaultEngine, messageNames, type CompatEngine } from "./compat-engine.js";
import { categoryName, categoryValue, DEFAULT_CATEGORY, DEFAULT_MODE, modeName, modeValue } from "./modes.js";
import { decodeJson, encodeJson, keys, type ConfigRecord, type SubjectRecord, type VersionRecord } from "./records.js";

/** Default limit of one schema (a serialized FileDescriptorSet), request and normalised: 4 MiB. */
export const DEFAULT_MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

/** Options of {@link createRegistryService}. */
export interface RegistryServiceOptions {
  store: RegistryStore;
  /** Refuse every write (registrations, settings, deletions). Default false. */
  readOnly?: boolean;
  /** Largest schema accepted, in bytes; default {@link DEFAULT_MAX_SCHEMA_BYTES}, lowered to what the store can hold. */
  maxSchemaBytes?: number;
  /** Largest value the store accepts (a JetStream KV value is bounded by the server's max_payload). */
  maxStoreValueBytes?: number;
  /** The compatibility engine; default the registry's own. @private */
  engine?: CompatEngine;
  /** Attempts of a compare-and-set before giving up with `aborted`; default 64. */
  maxCasAttempts?: number;
}

const SUBJECT_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const ID_RE = /^sha256:[0-9a-f]{64}$/;

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** Checks the syntax of a subject name (a message full name). @private */
export function checkSubjectName(subject: string): void {
  if (subject === "") throw invalid("subject is required: the event's full message name, e.g. acme.orders.v1.OrderPlaced");
  if (subject.length > 255 || !SUBJECT_RE.test(subject)) {
    throw invalid(`subject ${JSON.stringify(subject.slice(0, 300))} is not a message full name (dot-separated identifiers, at most 255 characters)`);
  }
}

/** Checks the syntax of a schema id. @private */
export function checkSchemaId(id: string): void {
  if (!ID_RE.test(id)) throw invalid(`schema id ${JSON.stringify(id.slice(0, 100))} is not of the form sha256:<64 hex digits>`);
}

/** Translates a foreign error into a ConnectError at the edge (DESIGN decision 11). @private */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof StoreUnavailableError) return new ConnectError(err.message, Code.Unavailable, undefined, undefined, err);
  return new ConnectError(`registry failure: ${err instanceof Error ? err.message : String(err)}`, Code.Internal, undefined, undefined, err);
}

function toWireViolation(v: Violation): WireViolation {
  return create(ViolationSchema, {
    rule: v.rule,
    message: v.message,
    path: v.path,
    ...(v.location ? { location: { file: v.location.file, line: v.location.line, column: v.location.column } } : {}),
    againstVersion: v.againstVersion ?? 0,
  });
}

interface Prepared {
  id: string;
  /** What is checked: the subject's files with their source info, for violation locations. */
  extracted: FileDescriptorSet;
  /** What is stored. */
  bytes: Uint8Array;
}

function reasonOf(err: unknown): string {
  if (err instanceof SchemaValidationError) return `${err.message} [${err.reason}]`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Implements `chronicle.registry.v1.RegistryService` over a
 * {@link RegistryStore}. It holds no state of its own but an internal cache
 * of immutable schemas, so any number of instances may share one store.
 * Errors are `ConnectError`s with the Connect code that fits:
 * invalid_argument for bad input, not_found, failed_precondition for an
 * incompatible schema (with a `CompatibilityViolations` detail) or a write to
 * a read-only registry, unavailable when the store cannot be reached.
 */
export function createRegistryService(options: RegistryServiceOptions): ServiceImpl<typeof RegistryService> {
  const { store } = options;
  const engine = options.engine ?? defaultEngine;
  const maxSchemaBytes = Math.min(options.maxSchemaBytes ?? DEFAULT_MAX_SCHEMA_BYTES, options.maxStoreValueBytes ?? Infinity);
  const maxAttempts = options.maxCasAttempts ?? 64;
  const schemaCache = new Map<string, FileDescriptorSet>();

  async function readJson<T>(key: string): Promise<{ value: T; revision: number } | undefined> {
    const e = await store.get(key);
    return e ? { value: decodeJson<T>(e.value), revision: e.revision } : undefined;
  }

  async function globalConfig(): Promise<ConfigRecord> {
    return (await readJson<ConfigRecord>(keys.globalConfig))?.value ?? {};
  }

  async function effectiveConfig(subject: string): Promise<{ mode: CompatibilityMode; category: RuleCategory; inherited: boolean; readOnly: boolean }> {
    const [global, own] = await Promise.all([globalConfig(), subject ? readJson<ConfigRecord>(keys.subjectConfig(subject)) : undefined]);
    return {
      mode: own?.value.mode ?? global.mode ?? DEFAULT_MODE,
      category: own?.value.category ?? global.category ?? DEFAULT_CATEGORY,
      inherited: subject !== "" && own?.value.mode === undefined && own?.value.category === undefined,
      readOnly: options.readOnly === true || global.readOnly === true,
    };
  }

  function refuseIfServerReadOnly(): void {
    if (options.readOnly) throw new ConnectError("the registry is read-only: writes are refused (server started with --read-only)", Code.FailedPrecondition);
  }

  async function refuseIfReadOnly(): Promise<void> {
    refuseIfServerReadOnly();
    if ((await globalConfig()).readOnly) {
      throw new ConnectError(
        "the registry is read-only: writes are refused (global read_only is set; an admin can clear it with SetConfig)",
        Code.FailedPrecondition,
      );
    }
  }

  /** Decodes, validates and normalises a schema for `subject`; throws invalid_argument with the reason. */
  function prepare(subject: string, bytes: Uint8Array): Prepared {
    checkSubjectName(subject);
    if (bytes.length === 0) throw invalid("schema is required: a serialized google.protobuf.FileDescriptorSet");
    if (bytes.length > maxSchemaBytes) throw invalid(`schema is ${bytes.length} bytes; the limit is ${maxSchemaBytes} bytes`);
    let fds: FileDescriptorSet;
    try {
      fds = fromBinary(FileDescriptorSetSchema, bytes, { readUnknownFields: false });
    } catch (err) {
      throw invalid(`schema is not a serialized FileDescriptorSet: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (fds.file.length === 0) throw invalid("schema is not a FileDescriptorSet with files: no file descriptors found in the bytes");
    if (fds.file.some((f) => f.name === "")) throw invalid("schema has a file descriptor without a name");
    try {
      engine.validateSchemaSet(fds);
    } catch (err) {
      throw invalid(`schema is not a valid self-contained descriptor set: ${reasonOf(err)}`);
    }
    if (!messageNames(fds).has(subject)) {
      throw invalid(`subject ${subject} is not a message declared in the schema; the subject must be the event's full message name`);
    }
    let extracted: FileDescriptorSet;
    let normalized: FileDescriptorSet;
    let id: string;
    try {
      extracted = engine.extractSubjectSchema(fds, subject);
      normalized = engine.normalizeSchema(extracted);
      id = engine.schemaId(normalized);
    } catch (err) {
      throw invalid(`schema could not be normalised: ${reasonOf(err)}`);
    }
    const out = toBinary(FileDescriptorSetSchema, normalized);
    if (out.length > maxSchemaBytes) throw invalid(`normalised schema is ${out.length} bytes; the limit is ${maxSchemaBytes} bytes`);
    return { id, extracted, bytes: out };
  }

  async function loadSchema(id: string): Promise<FileDescriptorSet> {
    const cached = schemaCache.get(id);
    if (cached) return cached;
    const e = await store.get(keys.schema(id));
    if (!e) throw new ConnectError(`schema ${id} is referenced by a subject but missing from storage`, Code.DataLoss);
    const fds = fromBinary(FileDescriptorSetSchema, e.value);
    if (schemaCache.size >= 1024) schemaCache.delete(schemaCache.keys().next().value!);
    schemaCache.set(id, fds);
    return fds;
  }

  async function readSubject(subject: string): Promise<{ record: SubjectRecord; revision: number } | undefined> {
    const e = await readJson<SubjectRecord>(keys.subject(subject));
    return e ? { record: e.value, revision: e.revision } : undefined;
  }

  async function requireSubject(subject: string): Promise<{ record: SubjectRecord; revision: number }> {
    checkSubjectName(subject);
    const found = await readSubject(subject);
    if (!found || found.record.versions.length === 0) throw new ConnectError(`subject ${subject} not found`, Code.NotFound);
    return found;
  }

  /** Writes a subject record with compare-and-set; false when someone else wrote first. */
  function writeSubject(subject: string, record: SubjectRecord, revision: number | undefined): Promise<boolean> {
    const value = encodeJson(record);
    return revision === undefined ? store.createIfAbsent(keys.subject(subject), value) : store.updateIfRevision(keys.subject(subject), value, revision);
  }

  /** Runs `attempt` until it returns a value (not undefined, which means: lost a compare-and-set race). */
  async function withRetries<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < maxAttempts; i++) {
      const out = await attempt();
      if (out !== undefined) return out;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 + i * 2, 50)));
    }
    throw new ConnectError(`${what}: too many concurrent writers, gave up after ${maxAttempts} attempts; retry`, Code.Aborted);
  }

  async function check(subject: string, prepared: Prepared, record: SubjectRecord | undefined, settings?: Awaited<ReturnType<typeof effectiveConfig>>) {
    const cfg = settings ?? (await effectiveConfig(subject));
    const live = (record?.versions ?? []).filter((v) => !v.deleted);
    const existing = live.find((v) => v.id === prepared.id);
    const against = cfg.mode === "NONE" ? [] : cfg.mode.endsWith("_TRANSITIVE") ? live : live.slice(-1);
    const history: SchemaVersion[] = [];
    for (const v of against) history.push({ version: v.version, schema: await loadSchema(v.id) });
    const result = existing
      ? { compatible: true, violations: [] }
      : engine.checkCompatibility({ subject, next: prepared.extracted, history, mode: cfg.mode, category: cfg.category });
    return { cfg, existing, checked: against.map((v) => v.version), result };
  }

  async function toSubjectVersion(subject: string, v: VersionRecord): Promise<SubjectVersion> {
    const e = await store.get(keys.schema(v.id));
    if (!e) throw new ConnectError(`schema ${v.id} of ${subject} version ${v.version} is missing from storage`, Code.DataLoss);
    return create(SubjectVersionSchema, { subject, version: v.version, id: v.id, schema: e.value, deleted: v.deleted, registeredAt: v.registeredAt });
  }

  /** Removes schemas no subject refers to any more (after hard deletes). */
  async function collectGarbage(ids: Iterable<string>): Promise<void> {
    const candidates = new Set(ids);
    if (candidates.size === 0) return;
    for (const key of await store.keys(keys.subjectPrefix)) {
      const e = await store.get(key);
      if (!e) continue;
      for (const v of decodeJson<SubjectRecord>(e.value).versions) candidates.delete(v.id);
    }
    for (const id of candidates) {
      await store.remove(keys.schema(id));
      schemaCache.delete(id);
    }
  }

  async function configResponse(subject: string): Promise<GetConfigResponse> {
    const cfg = await effectiveConfig(subject);
    return create(GetConfigResponseSchema, {
      subject,
      mode: modeValue(cfg.mode),
      category: categoryValue(cfg.category),
      inherited: cfg.inherited,
      readOnly: cfg.readOnly,
    });
  }

  const impl: ServiceImpl<typeof RegistryService> = {
    async register(req) {
      refuseIfServerReadOnly();
      const prepared = prepare(req.subject, req.schema);
      return withRetries(`registering ${req.subject}`, async () => {
        // one parallel batch of reads: the record and both settings
        const [found, settings] = await Promise.all([readSubject(req.subject), effectiveConfig(req.subject)]);
        if (settings.readOnly) await refuseIfReadOnly();
        const { cfg, existing, result } = await check(req.subject, prepared, found?.record, settings);
        if (existing) return { id: existing.id, version: existing.version, created: false };
        if (!result.compatible) {
          throw new ConnectError(
            `schema is incompatible with ${req.subject} under ${cfg.mode} (${cfg.category}): ${result.violations.length} violation(s); first: ${result.violations[0]?.rule ?? "?"} at ${result.violations[0]?.path ?? "?"}: ${result.violations[0]?.message ?? ""}`,
            Code.FailedPrecondition,
            undefined,
            [
              {
                desc: CompatibilityViolationsSchema,
                value: {
                  subject: req.subject,
                  mode: modeValue(cfg.mode),
                  category: categoryValue(cfg.category),
                  violations: result.violations.map(toWireViolation),
                },
              },
            ],
          );
        }
        const preexisting = !(await store.createIfAbsent(keys.schema(prepared.id), prepared.bytes));
        const record: SubjectRecord = found?.record ?? { versions: [], lastVersion: 0 };
        const version = record.lastVersion + 1;
        const next: SubjectRecord = {
          versions: [...record.versions, { version, id: prepared.id, deleted: false, registeredAt: new Date().toISOString() }],
          lastVersion: version,
        };
        if (!(await writeSubject(req.subject, next, found?.revision))) return undefined;
        // a hard delete elsewhere may have collected the shared schema meanwhile
        if (preexisting && !(await store.get(keys.schema(prepared.id)))) await store.put(keys.schema(prepared.id), prepared.bytes);
        return { id: prepared.id, version, created: true };
      });
    },

    async getSchema(req) {
      checkSchemaId(req.id);
      const e = await store.get(keys.schema(req.id));
      if (!e) throw new ConnectError(`schema ${req.id} not found`, Code.NotFound);
      return { id: req.id, schema: e.value };
    },

    async getVersion(req) {
      if (req.version < 1) throw invalid(`version must be 1 or more, got ${req.version}; use GetLatestVersion for the latest`);
      const { record } = await requireSubject(req.subject);
      const v = record.versions.find((x) => x.version === req.version);
      if (!v || (v.deleted && !req.includeDeleted)) throw new ConnectError(`${req.subject} version ${req.version} not found`, Code.NotFound);
      return { version: await toSubjectVersion(req.subject, v) };
    },

    async getLatestVersion(req) {
      const { record } = await requireSubject(req.subject);
      const v = record.versions.filter((x) => !x.deleted).at(-1);
      if (!v) throw new ConnectError(`subject ${req.subject} has no live version (all are soft-deleted)`, Code.NotFound);
      return { version: await toSubjectVersion(req.subject, v) };
    },

    async listSubjects(req) {
      const subjects: string[] = [];
      for (const key of await store.keys(keys.subjectPrefix)) {
        const e = await store.get(key);
        if (!e) continue;
        const { versions } = decodeJson<SubjectRecord>(e.value);
        if (versions.some((v) => !v.deleted) || (req.includeDeleted && versions.length > 0)) subjects.push(key.slice(keys.subjectPrefix.length + 1));
      }
      return { subjects };
    },

    async listVersions(req) {
      const { record } = await requireSubject(req.subject);
      const versions = record.versions.filter((v) => req.includeDeleted || !v.deleted).map((v) => v.version);
      if (versions.length === 0) throw new ConnectError(`subject ${req.subject} has no live version (all are soft-deleted)`, Code.NotFound);
      return { versions };
    },

    async checkCompatibility(req) {
      const prepared = prepare(req.subject, req.schema);
      const [found, settings] = await Promise.all([readSubject(req.subject), effectiveConfig(req.subject)]);
      const { cfg, existing, checked, result } = await check(req.subject, prepared, found?.record, settings);
      return {
        compatible: result.compatible,
        violations: result.violations.map(toWireViolation),
        mode: modeValue(cfg.mode),
        category: categoryValue(cfg.category),
        ...(req.verbose ? { id: prepared.id, checkedVersions: existing ? [] : checked, existingVersion: existing?.version ?? 0 } : {}),
      };
    },

    async getConfig(req) {
      if (req.subject !== "") checkSubjectName(req.subject);
      return configResponse(req.subject);
    },

    async setConfig(req) {
      refuseIfServerReadOnly();
      if (req.subject !== "") checkSubjectName(req.subject);
      const mode = modeName(req.mode);
      const category = categoryName(req.category);
      if (req.mode !== 0 && !mode) throw invalid(`unknown compatibility mode ${req.mode}`);
      if (req.category !== 0 && !category) throw invalid(`unknown rule category ${req.category}`);
      if (req.subject === "") {
        if (req.clear) throw invalid("clear applies to a subject's settings; the global settings cannot be cleared");
        if (!mode && !category && req.readOnly === undefined) throw invalid("pass a mode, a category or read_only");
        const current = await globalConfig();
        const next: ConfigRecord = {
          ...current,
          ...(mode ? { mode } : {}),
          ...(category ? { category } : {}),
          ...(req.readOnly !== undefined ? { readOnly: req.readOnly } : {}),
        };
        await store.put(keys.globalConfig, encodeJson(next));
      } else {
        if (req.readOnly !== undefined) throw invalid("read_only is a global setting; leave subject empty to set it");
        if ((await globalConfig()).readOnly) await refuseIfReadOnly();
        if (req.clear) {
          if (mode || category) throw invalid("clear drops the subject's settings; do not pass a mode or category with it");
          await store.remove(keys.subjectConfig(req.subject));
        } else {
          if (!mode && !category) throw invalid("pass a mode, a category or clear");
          const current = (await readJson<ConfigRecord>(keys.subjectConfig(req.subject)))?.value ?? {};
          await store.put(keys.subjectConfig(req.subject), encodeJson({ ...current, ...(mode ? { mode } : {}), ...(category ? { category } : {}) }));
        }
      }
      return { config: await configResponse(req.subject) };
    },

    async deleteVersion(req) {
      await refuseIfReadOnly();
      if (req.version < 1) throw invalid(`version must be 1 or more, got ${req.version}`);
      const removed = await withRetries(`deleting ${req.subject} version ${req.version}`, async () => {
        const { record, revision } = await requireSubject(req.subject);
        const v = record.versions.find((x) => x.version === req.version);
        if (!v) throw new ConnectError(`${req.subject} version ${req.version} not found`, Code.NotFound);
        if (req.permanent && !v.deleted) {
          throw new ConnectError(`${req.subject} version ${req.version} must be soft-deleted before a permanent delete`, Code.FailedPrecondition);
        }
        const versions = req.permanent ? record.versions.filter((x) => x !== v) : record.versions.map((x) => (x === v ? { ...x, deleted: true } : x));
        if (!(await writeSubject(req.subject, { ...record, versions }, revision))) return undefined;
        return req.permanent ? [v.id] : [];
      });
      await collectGarbage(removed);
      return { version: req.version };
    },

    async deleteSubject(req) {
      await refuseIfReadOnly();
      const { versions, ids } = await withRetries(`deleting ${req.subject}`, async () => {
        const { record, revision } = await requireSubject(req.subject);
        if (req.permanent) {
          const live = record.versions.filter((v) => !v.deleted);
          if (live.length > 0) {
            throw new ConnectError(
              `${req.subject} has live versions (${live.map((v) => v.version).join(", ")}); soft-delete the subject before a permanent delete`,
              Code.FailedPrecondition,
            );
          }
          // an empty record is an absent subject; numbering restarts at 1
          if (!(await writeSubject(req.subject, { versions: [], lastVersion: 0 }, revision))) return undefined;
          return { versions: record.versions.map((v) => v.version), ids: record.versions.map((v) => v.id) };
        }
        const live = record.versions.filter((v) => !v.deleted).map((v) => v.version);
        const next = { ...record, versions: record.versions.map((v) => ({ ...v, deleted: true })) };
        if (!(await writeSubject(req.subject, next, revision))) return undefined;
        return { versions: live, ids: [] as string[] };
      });
      if (req.permanent) await store.remove(keys.subjectConfig(req.subject));
      await collectGarbage(ids);
      return { versions };
    },
  };

  // every handler answers with a ConnectError, never a foreign error
  const guarded = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(impl) as [string, (req: unknown, ctx: unknown) => Promise<unknown>][]) {
    guarded[name] = async (req: unknown, ctx: unknown) => {
      try {
        return await fn(req, ctx);
      } catch (err) {
        throw toConnectError(err);
      }
    };
  }
  return guarded as ServiceImpl<typeof RegistryService>;
}
