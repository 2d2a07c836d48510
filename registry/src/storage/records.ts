import type { CompatibilityMode, RuleCategory } from "../compat/types.js";

/** One version of a subject as stored in the subject's record. @private */
export interface VersionRecord {
  version: number;
  id: string;
  deleted: boolean;
  registeredAt: string;
}

/**
 * Everything about one subject but the schemas themselves, in one KV value,
 * so that a version is assigned by one compare-and-set. @private
 */
export interface SubjectRecord {
  /** Versions oldest first, hard-deleted ones removed. */
  versions: VersionRecord[];
  /** The highest version ever assigned; versions are never reused. */
  lastVersion: number;
}

/** Settings of the registry or of one subject. @private */
export interface ConfigRecord {
  mode?: CompatibilityMode;
  category?: RuleCategory;
  /** Global only. */
  readOnly?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The stored form of a record: UTF-8 JSON. @private */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
/** A record from its stored form; throws when it is not JSON. @private */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

/**
 * Keys of the registry's bucket. Schema ids `sha256:<hex>` are stored under
 * their hex. @private
 */
export const keys = {
  schema: (id: string) => `schemas.${id.slice("sha256:".length)}`,
  schemaPrefix: "schemas.",
  schemaIdOf: (key: string) => `sha256:${key.slice("schemas.".length)}`,
  subject: (subject: string) => `subjects.${subject}`,
  subjectPrefix: "subjects.",
  subjectOf: (key: string) => key.slice("subjects.".length),
  globalConfig: "config.global",
  subjectConfig: (subject: string) => `config.subject.${subject}`,
  subjectConfigPrefix: "config.subject.",
  subjectOfConfig: (key: string) => key.slice("config.subject.".length),
  /** Records an API edge keeps of its own (Confluent's integer ids and modes), held as bytes. */
  edgePrefix: "edge.",
};
