import { decodeJson, keys, type ConfigRecord, type SubjectRecord } from "./records.js";
import type { StoreChange } from "./store.js";

/** A record with the store revision it was read at, the revision a compare-and-set names. */
export interface Revisioned<T> {
  value: T;
  revision: number;
}

/**
 * One family of keys of the bucket (`schemas.*`, `subjects.*`, ...): how a
 * value under it is held in memory. Another API edge that stores records of
 * its own (for example integer ids mapped to schema ids) adds a family.
 */
interface KeyFamily {
  /** Whether `key` belongs to this family. */
  owns(key: string): boolean;
  /** Holds the value of `key`; throws when the value does not decode. */
  set(key: string, value: Uint8Array, revision: number): void;
  delete(key: string): void;
}

/**
 * The registry's content as one server holds it in memory: every schema,
 * every subject record and every setting, decoded, each with the revision
 * it was stored at. {@link RegistryState.apply} takes changes in any order
 * and keeps, per key, the one with the highest revision, so changes from a
 * watch and the server's own writes can be applied as they come.
 * @private
 */
export class RegistryState {
  private readonly revisions = new Map<string, number>();
  private readonly schemaBytes = new Map<string, Uint8Array>();
  private readonly subjectRecords = new Map<string, Revisioned<SubjectRecord>>();
  private readonly subjectConfigs = new Map<string, Revisioned<ConfigRecord>>();
  private global: Revisioned<ConfigRecord> | undefined;
  private readonly edgeRecords = new Map<string, Revisioned<Uint8Array>>();
  private sortedSubjects: string[] | undefined;

  private readonly families: readonly KeyFamily[] = [
    {
      owns: (key) => key.startsWith(keys.schemaPrefix),
      set: (key, value) => this.schemaBytes.set(keys.schemaIdOf(key), value),
      delete: (key) => this.schemaBytes.delete(keys.schemaIdOf(key)),
    },
    {
      owns: (key) => key.startsWith(keys.subjectPrefix),
      set: (key, value, revision) => {
        this.subjectRecords.set(keys.subjectOf(key), { value: decodeJson<SubjectRecord>(value), revision });
        this.sortedSubjects = undefined;
      },
      delete: (key) => {
        this.subjectRecords.delete(keys.subjectOf(key));
        this.sortedSubjects = undefined;
      },
    },
    {
      owns: (key) => key.startsWith(keys.subjectConfigPrefix),
      set: (key, value, revision) => this.subjectConfigs.set(keys.subjectOfConfig(key), { value: decodeJson<ConfigRecord>(value), revision }),
      delete: (key) => this.subjectConfigs.delete(keys.subjectOfConfig(key)),
    },
    {
      owns: (key) => key === keys.globalConfig,
      set: (_key, value, revision) => (this.global = { value: decodeJson<ConfigRecord>(value), revision }),
      delete: () => (this.global = undefined),
    },
    {
      owns: (key) => key.startsWith(keys.edgePrefix),
      set: (key, value, revision) => this.edgeRecords.set(key, { value, revision }),
      delete: (key) => this.edgeRecords.delete(key),
    },
  ];

  /**
   * Applies a change unless the state already holds `change.key` at a newer
   * revision. Returns false when it was older. A value that does not decode
   * leaves the key absent and throws, for the caller to report.
   */
  apply(change: StoreChange): boolean {
    if ((this.revisions.get(change.key) ?? 0) >= change.revision) return false;
    this.revisions.set(change.key, change.revision);
    const family = this.families.find((f) => f.owns(change.key));
    if (!family) return true;
    if (change.value === undefined) {
      family.delete(change.key);
      return true;
    }
    try {
      family.set(change.key, change.value, change.revision);
    } catch (err) {
      family.delete(change.key);
      throw err;
    }
    return true;
  }

  /**
   * Drops `key` at the revision it is held at: for a removal whose revision
   * the store does not report. A later change of the key (the store's own
   * record of the removal, or a newer write) still applies.
   */
  forget(key: string): void {
    this.families.find((f) => f.owns(key))?.delete(key);
  }

  /** The normalised, binary FileDescriptorSet of a schema id. */
  schema(id: string): Uint8Array | undefined {
    return this.schemaBytes.get(id);
  }

  /** A subject's record with its revision; undefined when the subject was never registered or was removed for good. */
  subject(subject: string): Revisioned<SubjectRecord> | undefined {
    return this.subjectRecords.get(subject);
  }

  /** Every subject with a record, sorted. */
  subjectNames(): readonly string[] {
    return (this.sortedSubjects ??= [...this.subjectRecords.keys()].sort());
  }

  /** The global settings with their revision; undefined when none were ever set. */
  globalConfig(): Revisioned<ConfigRecord> | undefined {
    return this.global;
  }

  /** A subject's own settings with their revision; undefined when it has none. */
  subjectConfig(subject: string): Revisioned<ConfigRecord> | undefined {
    return this.subjectConfigs.get(subject);
  }

  /** A record an API edge keeps under `edge.*`, with its revision. */
  edgeRecord(key: string): Revisioned<Uint8Array> | undefined {
    return this.edgeRecords.get(key);
  }

  /** Keys of the edge records under `prefix` (which starts with `edge.`). */
  edgeKeys(prefix: string): string[] {
    return [...this.edgeRecords.keys()].filter((k) => k.startsWith(prefix));
  }

  /** Every schema id some subject's record refers to. */
  referencedSchemaIds(): Set<string> {
    const ids = new Set<string>();
    for (const { value } of this.subjectRecords.values()) for (const v of value.versions) ids.add(v.id);
    return ids;
  }
}
