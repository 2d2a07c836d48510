/**
 * Why a descriptor set was rejected. Stable strings: the registry service maps
 * every reason to the Connect code `InvalidArgument`.
 */
export type SchemaValidationReason =
  "EMPTY_SCHEMA" | "DUPLICATE_FILE" | "UNRESOLVED_IMPORT" | "UNRESOLVED_TYPE" | "DUPLICATE_NAME" | "INVALID_DESCRIPTOR" | "SUBJECT_NOT_FOUND" | "TOO_DEEP";

const brand = Symbol.for("@chronicle/registry/SchemaValidationError");

/**
 * Thrown when a `FileDescriptorSet` cannot be used as a schema: a file listed
 * twice, an import that is not in the set, a type name that resolves to
 * nothing, a malformed descriptor. The compatibility engine never throws
 * anything else for bad input, so callers can map this class to a client error
 * and treat any other exception as a bug.
 *
 * `instanceof` works across duplicated copies of this package.
 */
export class SchemaValidationError extends Error {
  override readonly name = "SchemaValidationError";
  /** Machine-readable reason, stable across releases. */
  readonly reason: SchemaValidationReason;
  /** The file the problem was found in, when there is one. */
  readonly file: string | undefined;
  /** The element (import path, type name, subject) the problem is about, when there is one. */
  readonly element: string | undefined;

  constructor(reason: SchemaValidationReason, message: string, context: { file?: string; element?: string; cause?: unknown } = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.reason = reason;
    this.file = context.file;
    this.element = context.element;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }

  /** @private marker that makes `instanceof` robust across package copies. */
  get [brand](): true {
    return true;
  }
}
