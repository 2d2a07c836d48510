import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { CompatibilityMode, RuleCategory, Violation } from "../compat/types.js";
import {
  CompatibilityViolationsSchema,
  RegistryService,
  type CompatibilityViolations,
  type SubjectVersion,
  type Violation as WireViolation,
} from "../gen/chronicle/registry/v1/registry_pb.js";
import { categoryName, categoryValue, modeName, modeValue } from "../service/modes.js";
import type { RegisteredVersion } from "../service/registry-reads.js";

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** The registry's base URL, e.g. `http://127.0.0.1:8081`. */
  baseUrl: string;
  /** Bearer token; omit for anonymous reads. */
  token?: string;
  /** Wire protocol; default `connect` (binary). */
  protocol?: "connect" | "grpc" | "grpc-web";
  /** HTTP version; default "2" for grpc, "1.1" otherwise. */
  httpVersion?: "1.1" | "2";
  /** Timeout of each call in milliseconds; default 10000. */
  timeoutMs?: number;
  /** PEM certificate(s) to trust for an https registry with a private CA. */
  ca?: string | Uint8Array;
}

/** Effective settings of the registry or a subject. */
export interface RegistryConfig {
  subject: string;
  mode: CompatibilityMode;
  category: RuleCategory;
  inherited: boolean;
  readOnly: boolean;
}

/** Result of {@link RegistryClient.checkCompatibility}. */
export interface CompatibilityCheck {
  compatible: boolean;
  violations: Violation[];
  mode: CompatibilityMode;
  category: RuleCategory;
  /** The id the schema would be registered under. */
  id: string;
  checkedVersions: number[];
  /** The version the schema already is, 0 when it would be new. */
  existingVersion: number;
}

/**
 * A typed client of the schema registry. Every method rejects with a
 * `ConnectError` whose `code` says what happened (`NotFound`,
 * `InvalidArgument`, `FailedPrecondition` for an incompatible schema: use
 * {@link violationsOf} to read the violations, `Unauthenticated`,
 * `PermissionDenied`, `Unavailable`).
 */
export interface RegistryClient extends Disposable {
  /** Registers `schema` under `subject`; identical content returns the existing version with `created: false`. */
  register(subject: string, schema: FileDescriptorSet | Uint8Array): Promise<{ id: string; version: number; created: boolean }>;
  /** The binary FileDescriptorSet of a schema id. */
  getSchema(id: string): Promise<Uint8Array>;
  getVersion(subject: string, version: number, options?: { includeDeleted?: boolean }): Promise<RegisteredVersion>;
  getLatestVersion(subject: string): Promise<RegisteredVersion>;
  listSubjects(options?: { includeDeleted?: boolean }): Promise<string[]>;
  listVersions(subject: string, options?: { includeDeleted?: boolean }): Promise<number[]>;
  /** Checks `schema` against `subject` without registering it. */
  checkCompatibility(subject: string, schema: FileDescriptorSet | Uint8Array): Promise<CompatibilityCheck>;
  /** Settings of a subject, or the global ones when `subject` is omitted. */
  getConfig(subject?: string): Promise<RegistryConfig>;
  /** Changes settings (admin). */
  setConfig(change: { subject?: string; mode?: CompatibilityMode; category?: RuleCategory; readOnly?: boolean; clear?: boolean }): Promise<RegistryConfig>;
  /** Soft-deletes a version, or removes a soft-deleted one for good with `permanent` (admin). */
  deleteVersion(subject: string, version: number, options?: { permanent?: boolean }): Promise<void>;
  /** Soft-deletes every version of a subject, or removes a soft-deleted subject with `permanent` (admin); returns the versions. */
  deleteSubject(subject: string, options?: { permanent?: boolean }): Promise<number[]>;
  /** The generated Connect client, for what the methods above do not cover. */
  readonly raw: Client<typeof RegistryService>;
  /** Closes HTTP/2 sessions. */
  close(): void;
}

function toBytes(schema: FileDescriptorSet | Uint8Array): Uint8Array {
  return schema instanceof Uint8Array ? schema : toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, schema));
}

function fromWireViolation(v: WireViolation): Violation {
  return {
    rule: v.rule,
    message: v.message,
    path: v.path,
    ...(v.location ? { location: { file: v.location.file, line: v.location.line, column: v.location.column } } : {}),
    ...(v.againstVersion ? { againstVersion: v.againstVersion } : {}),
  };
}

/**
 * The violations a registration was refused for, from the error's
 * `CompatibilityViolations` detail; undefined for any other error.
 */
export function violationsOf(err: unknown): Violation[] | undefined {
  const ce = ConnectError.from(err);
  const detail: CompatibilityViolations | undefined = ce.findDetails(CompatibilityViolationsSchema)[0];
  return detail?.violations.map(fromWireViolation);
}

function toVersion(v: SubjectVersion | undefined): RegisteredVersion {
  return {
    subject: v?.subject ?? "",
    version: v?.version ?? 0,
    id: v?.id ?? "",
    schema: v?.schema ?? new Uint8Array(),
    deleted: v?.deleted ?? false,
    registeredAt: v?.registeredAt ?? "",
  };
}

/**
 * Creates a {@link RegistryClient}. Connect protocol over HTTP/1.1 by
 * default; gRPC and gRPC-Web are available for parity tests and proxies.
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const auth: Interceptor = (next) => (req) => {
    if (options.token) req.header.set("authorization", `Bearer ${options.token}`);
    return next(req);
  };
  const protocol = options.protocol ?? "connect";
  const httpVersion = options.httpVersion ?? (protocol === "grpc" ? "2" : "1.1");
  const ca = options.ca === undefined ? {} : { ca: typeof options.ca === "string" ? options.ca : Buffer.from(options.ca) };
  const session = httpVersion === "2" ? new Http2SessionManager(options.baseUrl, undefined, ca) : undefined;
  const common = { baseUrl: options.baseUrl, interceptors: [auth], defaultTimeoutMs: options.timeoutMs ?? 10_000, useBinaryFormat: true };
  const transport: Transport =
    protocol === "grpc"
      ? createGrpcTransport({ ...common, sessionManager: session ?? new Http2SessionManager(options.baseUrl, undefined, ca) })
      : session
        ? (protocol === "grpc-web" ? createGrpcWebTransport : createConnectTransport)({ ...common, httpVersion: "2", sessionManager: session })
        : (protocol === "grpc-web" ? createGrpcWebTransport : createConnectTransport)({ ...common, httpVersion: "1.1", nodeOptions: ca });
  const raw = createClient(RegistryService, transport);
  const toConfig = (wire: { subject: string; mode: number; category: number; inherited: boolean; readOnly: boolean } | undefined): RegistryConfig => ({
    subject: wire?.subject ?? "",
    mode: modeName(wire?.mode ?? 0) ?? "FULL_TRANSITIVE",
    category: categoryName(wire?.category ?? 0) ?? "WIRE_JSON",
    inherited: wire?.inherited ?? false,
    readOnly: wire?.readOnly ?? false,
  });
  const close = () => session?.abort();
  return {
    raw,
    close,
    [Symbol.dispose]: close,
    register: async (subject, schema) => {
      const r = await raw.register({ subject, schema: toBytes(schema) });
      return { id: r.id, version: r.version, created: r.created };
    },
    getSchema: async (id) => (await raw.getSchema({ id })).schema,
    getVersion: async (subject, version, options) =>
      toVersion((await raw.getVersion({ subject, version, includeDeleted: options?.includeDeleted ?? false })).version),
    getLatestVersion: async (subject) => toVersion((await raw.getLatestVersion({ subject })).version),
    listSubjects: async (options) => (await raw.listSubjects({ includeDeleted: options?.includeDeleted ?? false })).subjects,
    listVersions: async (subject, options) => (await raw.listVersions({ subject, includeDeleted: options?.includeDeleted ?? false })).versions,
    checkCompatibility: async (subject, schema) => {
      const r = await raw.checkCompatibility({ subject, schema: toBytes(schema), verbose: true });
      return {
        compatible: r.compatible,
        violations: r.violations.map(fromWireViolation),
        mode: modeName(r.mode) ?? "FULL_TRANSITIVE",
        category: categoryName(r.category) ?? "WIRE_JSON",
        id: r.id,
        checkedVersions: r.checkedVersions,
        existingVersion: r.existingVersion,
      };
    },
    getConfig: async (subject) => toConfig(await raw.getConfig({ subject: subject ?? "" })),
    setConfig: async (change) =>
      toConfig(
        (
          await raw.setConfig({
            subject: change.subject ?? "",
            ...(change.mode ? { mode: modeValue(change.mode) } : {}),
            ...(change.category ? { category: categoryValue(change.category) } : {}),
            ...(change.readOnly !== undefined ? { readOnly: change.readOnly } : {}),
            clear: change.clear ?? false,
          })
        ).config,
      ),
    deleteVersion: async (subject, version, options) => {
      await raw.deleteVersion({ subject, version, permanent: options?.permanent ?? false });
    },
    deleteSubject: async (subject, options) => (await raw.deleteSubject({ subject, permanent: options?.permanent ?? false })).versions,
  };
}
