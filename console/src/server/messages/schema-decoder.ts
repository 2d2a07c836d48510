import { createFileRegistry, fromBinary, toJson, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RegistryClient } from "@chronicle/registry";
import { Headers } from "@chronicle/runtime";

/** A message schema resolved through the registry. */
export interface ResolvedSchema {
  id: string;
  /** The subject version that has this id; 0 when the subject does not list it. */
  version: number;
  desc: DescMessage;
  registry: FileRegistry;
}

/** What decoding one event gave. */
export interface DecodedEvent {
  schemaId: string;
  schemaVersion: number;
  /** Protobuf JSON, pretty-printed; empty when not decoded. */
  json: string;
  /** Why it was not decoded; empty when it was. */
  error: string;
}

/** How long a failed look-up is remembered before it is tried again, ms. */
const NEGATIVE_TTL_MS = 10_000;
/** How long a subject's latest version and version list are trusted, ms. */
const SUBJECT_TTL_MS = 10_000;

const SCHEMA_ID = /sha256:[0-9a-f]{64}/;

function reason(err: unknown): string {
  const ce = ConnectError.from(err);
  if (ce.code === Code.NotFound) return ce.rawMessage;
  if (ce.code === Code.Unavailable || ce.code === Code.Unknown || ce.code === Code.DeadlineExceeded) return `the registry is unreachable: ${ce.rawMessage}`;
  return ce.rawMessage;
}

/**
 * Decodes stored events with their registered schemas: the schema id of
 * `ce-dataschema` (fetched once by id, kept for good: an id is a content
 * hash, so its schema never changes), else the latest version of the
 * `ce-type` subject. Look-ups run once however many events wait for them;
 * a failed one is remembered for 10 s so a page of undecodable events asks
 * the registry once. An event that cannot be decoded gets the reason
 * (no registry, unknown id, unreachable registry, bytes that do not parse).
 */
export class SchemaDecoder {
  private readonly byId = new Map<string, { at: number; value: Promise<FileRegistry> }>();
  private readonly latest = new Map<string, { at: number; value: Promise<{ id: string; version: number }> }>();
  private readonly versions = new Map<string, { at: number; value: Promise<Map<string, number>> }>();

  constructor(private readonly registry: RegistryClient | undefined) {}

  private cached<T>(map: Map<string, { at: number; value: Promise<T> }>, key: string, ttl: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < ttl) return hit.value;
    const value = load();
    const entry = { at: Date.now(), value };
    map.set(key, entry);
    // a failure is kept for NEGATIVE_TTL_MS only
    value.catch(() => {
      entry.at = Date.now() - ttl + NEGATIVE_TTL_MS;
    });
    return value;
  }

  private client(): RegistryClient {
    if (!this.registry) throw new ConnectError("the console has no registry (start it with --registry URL)", Code.FailedPrecondition);
    return this.registry;
  }

  private files(id: string): Promise<FileRegistry> {
    return this.cached(this.byId, id, Infinity, async () => createFileRegistry(fromBinary(FileDescriptorSetSchema, await this.client().getSchema(id))));
  }

  private async versionOf(subject: string, id: string): Promise<number> {
    const list = await this.cached(this.versions, subject, SUBJECT_TTL_MS, async () => {
      const out = new Map<string, number>();
      for (const v of await this.client().listVersions(subject)) out.set((await this.client().getVersion(subject, v)).id, v);
      return out;
    }).catch(() => new Map<string, number>());
    if (!list.has(id)) this.versions.delete(subject);
    return list.get(id) ?? 0;
  }

  /**
   * The schema of `type`: the one with `schemaId` when given, else the
   * latest version of the subject `type`. Throws a ConnectError (NotFound,
   * Unavailable, FailedPrecondition without a registry).
   */
  async resolve(type: string, schemaId?: string): Promise<ResolvedSchema> {
    let id = schemaId;
    let version = 0;
    if (!id) {
      const l = await this.cached(this.latest, type, SUBJECT_TTL_MS, async () => {
        const v = await this.client().getLatestVersion(type);
        return { id: v.id, version: v.version };
      });
      id = l.id;
      version = l.version;
    }
    const registry = await this.files(id);
    const desc = registry.getMessage(type);
    if (!desc) throw new ConnectError(`schema ${id} does not declare message ${type}`, Code.NotFound);
    if (!version) version = await this.versionOf(type, id);
    return { id, version, desc, registry };
  }

  /** Decodes one event from its headers and payload; never throws. */
  async decode(headers: Record<string, string>, data: Uint8Array): Promise<DecodedEvent> {
    const type = headers[Headers.Type];
    const schemaId = SCHEMA_ID.exec(headers[Headers.DataSchema] ?? "")?.[0] ?? "";
    if (!type) return { schemaId, schemaVersion: 0, json: "", error: "the event has no ce-type header, so its schema is unknown" };
    let resolved: ResolvedSchema;
    try {
      resolved = await this.resolve(type, schemaId || undefined);
    } catch (err) {
      return { schemaId, schemaVersion: 0, json: "", error: `not decoded: ${reason(err)}` };
    }
    try {
      const message = fromBinary(resolved.desc, data);
      return {
        schemaId: resolved.id,
        schemaVersion: resolved.version,
        json: JSON.stringify(toJson(resolved.desc, message, { registry: resolved.registry }), null, 2),
        error: "",
      };
    } catch (err) {
      return {
        schemaId: resolved.id,
        schemaVersion: resolved.version,
        json: "",
        error: `the bytes do not decode as ${type} (schema ${resolved.id.slice(0, 19)}…): ${(err as Error).message}`,
      };
    }
  }
}
