import { keys } from "../storage/records.js";
import { RegistryReplica } from "../storage/registry-replica.js";
import type { RegistryStore } from "../storage/store.js";
import { defaultEngine, type CompatEngine } from "./compat-engine.js";
import { deleteSubject, deleteVersion } from "./deletion.js";
import { createRegistryContext } from "./registry-context.js";
import { listSubjectNames, listVersionNumbers, readLatestVersion, readSchema, readVersion, type RegisteredVersion } from "./registry-reads.js";
import { checkSchema, registerSchema, type CheckOptions, type CompatibilityReport, type Registration, type RegisterOptions } from "./registration.js";
import { getConfig, setConfig, type ConfigChange, type EffectiveConfig } from "./settings.js";

/** Default limit of one schema (a binary FileDescriptorSet, as decoded from the request and once normalised): 4 MiB. */
export const DEFAULT_MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

/** Options of {@link openRegistry}. */
export interface RegistryOptions {
  store: RegistryStore;
  /**
   * Refuse every write (registrations, settings, deletions).
   * @default false
   */
  readOnly?: boolean;
  /**
   * Largest schema accepted, in bytes of the binary FileDescriptorSet (as
   * decoded from the request, in any encoding, and once normalised).
   * @default DEFAULT_MAX_SCHEMA_BYTES
   */
  maxSchemaBytes?: number;
  /**
   * Attempts of a compare-and-set before giving up with `aborted`.
   * @default 64
   */
  maxCasAttempts?: number;
  /**
   * How often the in-memory copy is checked against the store, in
   * milliseconds (see {@link Registry.staleness}).
   * @default 1000
   */
  checkIntervalMs?: number;
  /** Where the registry reports what it left undone or started again; tokens never reach it. */
  log?: (line: string) => void;
  /** The compatibility engine; default the registry's own. @private */
  engine?: CompatEngine;
}

/**
 * The schema registry's operations, independent of any wire protocol: an
 * API edge (the Connect service, or another REST dialect) maps its requests
 * to these and its answers from them. Reads are answered from the server's
 * in-memory copy of the store, synchronously; writes go to the store by
 * compare-and-set and are visible to this registry's reads as soon as they
 * return. Every failure is a `RegistryError` (a ConnectError with a
 * `reason`).
 */
export interface Registry {
  /** Registers a binary FileDescriptorSet as the next version of `subject`, or returns the live version with the same content. */
  register(subject: string, schema: Uint8Array, options?: RegisterOptions): Promise<Registration>;
  /** Checks a binary FileDescriptorSet against `subject` without storing anything. */
  checkCompatibility(subject: string, schema: Uint8Array, options?: CheckOptions): CompatibilityReport;
  /** The binary FileDescriptorSet of a schema id. */
  getSchema(id: string): Uint8Array;
  getVersion(subject: string, version: number, options?: { includeDeleted?: boolean }): RegisteredVersion;
  /** The latest live version. */
  getLatestVersion(subject: string): RegisteredVersion;
  /** Subjects with a live version (any version, with `includeDeleted`), sorted. */
  listSubjects(options?: { includeDeleted?: boolean }): string[];
  /** Version numbers of a subject, oldest first. */
  listVersions(subject: string, options?: { includeDeleted?: boolean }): number[];
  /** The settings that apply to `subject`, or the global ones for "". */
  getConfig(subject: string): EffectiveConfig;
  setConfig(change: ConfigChange): Promise<EffectiveConfig>;
  /** Soft-deletes a version, or removes a soft-deleted one for good with `permanent`. */
  deleteVersion(subject: string, version: number, options?: { permanent?: boolean }): Promise<void>;
  /** Soft-deletes every version of a subject, or removes a soft-deleted subject for good with `permanent`; returns the versions. */
  deleteSubject(subject: string, options?: { permanent?: boolean }): Promise<number[]>;
  /**
   * How many milliseconds the in-memory copy may be behind the store, or
   * undefined while it is known current. Reads keep being answered while the
   * store is unreachable; this says how old they may be.
   */
  staleness(): number | undefined;
  /**
   * Records an API edge keeps beside the registry's own, in the same
   * bucket, under keys starting with `edge.` (dot-separated tokens of
   * `[A-Za-z0-9_=/-]`): read from the server's copy, written by
   * compare-and-set like everything else. @private
   */
  readonly edgeRecords: EdgeRecords;
  /** The largest schema accepted, in bytes. */
  readonly maxSchemaBytes: number;
  /** Stops watching the store; the store itself stays open. */
  close(): void;
}

/** The records of an API edge (see {@link Registry.edgeRecords}). @private */
export interface EdgeRecords {
  /** A record with the revision a compare-and-set must name; undefined when absent. */
  get(key: string): { value: Uint8Array; revision: number } | undefined;
  /** Keys under `prefix`, from the server's copy. */
  keys(prefix: string): string[];
  /** Writes `value` only when `key` has none; false when it has one. */
  create(key: string, value: Uint8Array): Promise<boolean>;
  /** Writes `value` only when `key` is still at `revision`; false otherwise. */
  update(key: string, value: Uint8Array, revision: number): Promise<boolean>;
  /** Writes `value` unconditionally. */
  put(key: string, value: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
  /** Reads `key` from the store itself into the copy; whether it holds a value. */
  refresh(key: string): Promise<boolean>;
}

function edgeKey(key: string): string {
  if (!key.startsWith(keys.edgePrefix)) throw new Error(`edge record key ${key} does not start with ${keys.edgePrefix}`);
  return key;
}

/**
 * Opens a registry over `store`: loads the whole store into memory and
 * keeps the copy current with a watch. Any number of registries, in any
 * number of processes, may share one store. Rejects with a
 * `StoreUnavailableError` when the store cannot be loaded.
 */
export async function openRegistry(options: RegistryOptions): Promise<Registry> {
  const log = options.log ?? (() => {});
  const replica = await RegistryReplica.open(options.store, { ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}), log });
  const ctx = createRegistryContext({
    replica,
    engine: options.engine ?? defaultEngine,
    serverReadOnly: options.readOnly ?? false,
    maxSchemaBytes: options.maxSchemaBytes ?? DEFAULT_MAX_SCHEMA_BYTES,
    maxCasAttempts: options.maxCasAttempts ?? 64,
    log,
  });
  const { state } = replica;
  return {
    register: (subject, schema, options) => registerSchema(ctx, subject, schema, options),
    checkCompatibility: (subject, schema, options) => checkSchema(ctx, subject, schema, options),
    getSchema: (id) => readSchema(state, id),
    getVersion: (subject, version, options) => readVersion(state, subject, version, options?.includeDeleted ?? false),
    getLatestVersion: (subject) => readLatestVersion(state, subject),
    listSubjects: (options) => listSubjectNames(state, options?.includeDeleted ?? false),
    listVersions: (subject, options) => listVersionNumbers(state, subject, options?.includeDeleted ?? false),
    getConfig: (subject) => getConfig(ctx, subject),
    setConfig: (change) => setConfig(ctx, change),
    deleteVersion: (subject, version, options) => deleteVersion(ctx, subject, version, options?.permanent ?? false),
    deleteSubject: (subject, options) => deleteSubject(ctx, subject, options?.permanent ?? false),
    staleness: () => replica.staleness(),
    edgeRecords: {
      get: (key) => state.edgeRecord(key),
      keys: (prefix) => state.edgeKeys(prefix),
      create: (key, value) => replica.create(edgeKey(key), value),
      update: (key, value, revision) => replica.update(edgeKey(key), value, revision),
      put: (key, value) => replica.put(edgeKey(key), value),
      remove: (key) => replica.remove(edgeKey(key)),
      refresh: (key) => replica.refresh(edgeKey(key)),
    },
    maxSchemaBytes: ctx.maxSchemaBytes,
    close: () => replica.close(),
  };
}
