import { Code, type ConnectError } from "@connectrpc/connect";
import { RegistryError, toConnectError, type RegistryErrorReason } from "../service/registry-error.js";

/**
 * An error in the form Confluent's clients expect: an HTTP status and a
 * body `{"error_code": N, "message": "..."}`, where `error_code` is
 * Confluent's: the status followed by a two-digit detail (40401 subject
 * not found, 42201 invalid schema, ...) or the bare status (409).
 */
export class ConfluentError extends Error {
  override name = "ConfluentError";
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Confluent's error codes, named. */
export const confluentCodes = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectSoftDeleted: 40404,
  subjectNotSoftDeleted: 40405,
  versionSoftDeleted: 40406,
  versionNotSoftDeleted: 40407,
  subjectConfigNotFound: 40408,
  subjectModeNotFound: 40409,
  incompatible: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  invalidMode: 42204,
  operationNotPermitted: 42205,
  storeError: 50001,
  operationTimeout: 50002,
} as const;

const byReason: Record<RegistryErrorReason, readonly [number, number]> = {
  invalid_subject: [422, confluentCodes.invalidSchema],
  invalid_schema: [422, confluentCodes.invalidSchema],
  invalid_schema_id: [422, confluentCodes.operationNotPermitted],
  invalid_version: [422, confluentCodes.invalidVersion],
  invalid_config: [422, confluentCodes.invalidCompatibilityLevel],
  subject_not_found: [404, confluentCodes.subjectNotFound],
  version_not_found: [404, confluentCodes.versionNotFound],
  schema_not_found: [404, confluentCodes.schemaNotFound],
  incompatible: [409, confluentCodes.incompatible],
  read_only: [422, confluentCodes.operationNotPermitted],
  not_soft_deleted: [404, confluentCodes.subjectNotSoftDeleted],
  too_many_writers: [500, confluentCodes.operationTimeout],
  storage_unavailable: [500, confluentCodes.storeError],
  missing_schema: [500, confluentCodes.storeError],
  internal: [500, confluentCodes.storeError],
};

/**
 * Translates any error of a request into a {@link ConfluentError}: a
 * registry error by its reason (never its message), a refused token as
 * 401/40101 or 403/40301, anything else as a store error.
 */
export function toConfluentError(err: unknown): ConfluentError {
  if (err instanceof ConfluentError) return err;
  const connect: ConnectError = toConnectError(err);
  if (connect instanceof RegistryError) {
    const [status, code] = byReason[connect.reason];
    return new ConfluentError(status, code, connect.rawMessage);
  }
  if (connect.code === Code.Unauthenticated) return new ConfluentError(401, 40101, connect.rawMessage);
  if (connect.code === Code.PermissionDenied) return new ConfluentError(403, 40301, connect.rawMessage);
  return new ConfluentError(500, confluentCodes.storeError, connect.rawMessage);
}
