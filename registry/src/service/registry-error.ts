import { Code, ConnectError } from "@connectrpc/connect";
import type { CompatibilityMode, RuleCategory, Violation } from "../compat/types.js";
import { StoreUnavailableError } from "../storage/store.js";

/**
 * Why the registry refused or failed a request: a closed set, each with the
 * Connect code it is answered with. An API edge that speaks another
 * protocol maps the reason, never the message, to its own error codes.
 */
export const registryErrorCodes = {
  /** The subject name is not a valid subject name (a message full name, or a Confluent-style name). */
  invalid_subject: Code.InvalidArgument,
  /** The schema bytes are missing, too large, not a self-contained FileDescriptorSet, or do not declare the subject. */
  invalid_schema: Code.InvalidArgument,
  /** A schema id that is not `sha256:<64 hex digits>`. */
  invalid_schema_id: Code.InvalidArgument,
  /** A version number below 1. */
  invalid_version: Code.InvalidArgument,
  /** Settings that are unknown or do not go together. */
  invalid_config: Code.InvalidArgument,
  subject_not_found: Code.NotFound,
  version_not_found: Code.NotFound,
  schema_not_found: Code.NotFound,
  /** The schema breaks compatibility rules; the error carries a CompatibilityViolations detail. */
  incompatible: Code.FailedPrecondition,
  /** The registry refuses writes (server flag or stored setting). */
  read_only: Code.FailedPrecondition,
  /** A permanent delete of something that is not soft-deleted first. */
  not_soft_deleted: Code.FailedPrecondition,
  /** Lost every compare-and-set attempt to other writers; retrying may succeed. */
  too_many_writers: Code.Aborted,
  /** The storage cannot be reached. */
  storage_unavailable: Code.Unavailable,
  /** A record refers to a schema the storage no longer holds. */
  missing_schema: Code.DataLoss,
  /** Anything else: a bug or a failure of a dependency. */
  internal: Code.Internal,
} as const satisfies Record<string, Code>;

/** A reason of {@link RegistryError}. */
export type RegistryErrorReason = keyof typeof registryErrorCodes;

/**
 * The error every registry operation throws: a `ConnectError` (so the
 * Connect edge answers it as it is) with the {@link RegistryErrorReason}
 * that made it, for edges that map reasons to their own codes. Its `name`
 * stays "ConnectError", which connect-es's `instanceof` checks rely on.
 * @private
 */
export class RegistryError extends ConnectError {
  /** Any ConnectError with a known reason, also from another copy of this package. */
  static override [Symbol.hasInstance](v: unknown): boolean {
    if (!(v instanceof ConnectError)) return false;
    const reason: unknown = (v as ConnectError & { reason?: unknown }).reason;
    return typeof reason === "string" && reason in registryErrorCodes;
  }

  constructor(
    readonly reason: RegistryErrorReason,
    message: string,
    options: { details?: ConstructorParameters<typeof ConnectError>[3]; cause?: unknown } = {},
  ) {
    super(message, registryErrorCodes[reason], undefined, options.details, options.cause);
  }
}

/**
 * A schema refused because it breaks compatibility rules: reason
 * `incompatible`, with every violation and the settings it was checked
 * under, for each edge to answer in its own form.
 * @private
 */
export class IncompatibleSchemaError extends RegistryError {
  /** Any ConnectError that carries a refusal's violations, also from another copy of this package. */
  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof RegistryError && v.reason === "incompatible" && Array.isArray((v as { violations?: unknown }).violations);
  }

  constructor(
    readonly subject: string,
    readonly mode: CompatibilityMode,
    readonly category: RuleCategory,
    readonly violations: Violation[],
  ) {
    const first = violations[0];
    super(
      "incompatible",
      `schema is incompatible with ${subject} under ${mode} (${category}): ${violations.length} violation(s); first: ${first?.rule ?? "?"} at ${first?.path ?? "?"}: ${first?.message ?? ""}`,
    );
  }
}

/**
 * Translates a foreign error into a ConnectError at the edge: a store that
 * cannot be reached is `unavailable`, anything unexpected `internal` with
 * its message. ConnectErrors pass through as they are.
 * @private
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof StoreUnavailableError) return new RegistryError("storage_unavailable", err.message, { cause: err });
  return new RegistryError("internal", `registry failure: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
