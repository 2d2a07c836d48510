import type { RegistryState, Revisioned } from "../storage/registry-state.js";
import type { SubjectRecord, VersionRecord } from "../storage/records.js";
import { checkSchemaId, checkSubjectName, checkVersionNumber } from "./input-checks.js";
import { RegistryError } from "./registry-error.js";

/** A registered version of a subject with its schema, as reads answer it. */
export interface RegisteredVersion {
  subject: string;
  version: number;
  /** The schema's content id, `sha256:<hex>`. */
  id: string;
  /** The normalised, binary FileDescriptorSet. */
  schema: Uint8Array;
  deleted: boolean;
  /** When it was registered, RFC 3339. */
  registeredAt: string;
}

// Every read here is answered from the server's in-memory copy, without a round trip to the store.

/** The binary FileDescriptorSet of a schema id; `schema_not_found` when no subject keeps it. @private */
export function readSchema(state: RegistryState, id: string): Uint8Array {
  checkSchemaId(id);
  const bytes = state.schema(id);
  if (!bytes) throw new RegistryError("schema_not_found", `schema ${id} not found`);
  return bytes;
}

/** A subject's record; `subject_not_found` when it has no version, live or soft-deleted. @private */
export function requireSubject(state: RegistryState, subject: string): Revisioned<SubjectRecord> {
  checkSubjectName(subject);
  const found = state.subject(subject);
  if (!found || found.value.versions.length === 0) throw new RegistryError("subject_not_found", `subject ${subject} not found`);
  return found;
}

function view(state: RegistryState, subject: string, v: VersionRecord): RegisteredVersion {
  const schema = state.schema(v.id);
  if (!schema) throw new RegistryError("missing_schema", `schema ${v.id} of ${subject} version ${v.version} is missing from storage`);
  return { subject, version: v.version, id: v.id, schema, deleted: v.deleted, registeredAt: v.registeredAt };
}

/** One version of a subject; a soft-deleted one only with `includeDeleted`. @private */
export function readVersion(state: RegistryState, subject: string, version: number, includeDeleted: boolean): RegisteredVersion {
  checkVersionNumber(version, "; use GetLatestVersion for the latest");
  const { value: record } = requireSubject(state, subject);
  const v = record.versions.find((x) => x.version === version);
  if (!v || (v.deleted && !includeDeleted)) throw new RegistryError("version_not_found", `${subject} version ${version} not found`);
  return view(state, subject, v);
}

/** The latest live version of a subject. @private */
export function readLatestVersion(state: RegistryState, subject: string): RegisteredVersion {
  const { value: record } = requireSubject(state, subject);
  const v = record.versions.findLast((x) => !x.deleted);
  if (!v) throw new RegistryError("subject_not_found", `subject ${subject} has no live version (all are soft-deleted)`);
  return view(state, subject, v);
}

/** Subjects with a live version (or any version, with `includeDeleted`), sorted. @private */
export function listSubjectNames(state: RegistryState, includeDeleted: boolean): string[] {
  return state.subjectNames().filter((name) => {
    const versions = state.subject(name)?.value.versions ?? [];
    return versions.some((v) => !v.deleted) || (includeDeleted && versions.length > 0);
  });
}

/** A subject's live version numbers (every one, with `includeDeleted`), oldest first. @private */
export function listVersionNumbers(state: RegistryState, subject: string, includeDeleted: boolean): number[] {
  const { value: record } = requireSubject(state, subject);
  const versions = record.versions.filter((v) => includeDeleted || !v.deleted).map((v) => v.version);
  if (versions.length === 0) throw new RegistryError("subject_not_found", `subject ${subject} has no live version (all are soft-deleted)`);
  return versions;
}
