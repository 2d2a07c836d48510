import { RegistryError } from "./registry-error.js";

// a message full name, or a Confluent-style subject (`orders-value`, `acme/common.proto`): dot-separated
// tokens of the characters a JetStream KV key may hold, since a subject is part of its record's key
const SUBJECT_RE = /^[A-Za-z0-9_=/-]+(\.[A-Za-z0-9_=/-]+)*$/;
const ID_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * Checks the syntax of a subject name: an event's message full name, or a
 * name as Confluent's clients make them (`orders-value`); throws
 * `invalid_subject`. @private
 */
export function checkSubjectName(subject: string): void {
  if (subject === "") throw new RegistryError("invalid_subject", "subject is required: the event's full message name, e.g. acme.orders.v1.OrderPlaced");
  if (subject.length > 255 || !SUBJECT_RE.test(subject)) {
    throw new RegistryError(
      "invalid_subject",
      `subject ${JSON.stringify(subject.slice(0, 300))} is not a valid subject name (dot-separated tokens of [A-Za-z0-9_=/-], at most 255 characters)`,
    );
  }
}

/** Checks the syntax of a schema id; throws `invalid_schema_id`. @private */
export function checkSchemaId(id: string): void {
  if (!ID_RE.test(id)) throw new RegistryError("invalid_schema_id", `schema id ${JSON.stringify(id.slice(0, 100))} is not of the form sha256:<64 hex digits>`);
}

/** Checks that a version number names a version (1 or more); throws `invalid_version`. @private */
export function checkVersionNumber(version: number, hint = ""): void {
  if (version < 1) throw new RegistryError("invalid_version", `version must be 1 or more, got ${version}${hint}`);
}
