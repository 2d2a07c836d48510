import type { CompatibilityResult, SchemaVersion, Violation } from "../compat/types.js";
import { encodeJson, keys, type SubjectRecord, type VersionRecord } from "../storage/records.js";
import { retryCompareAndSet } from "./compare-and-set.js";
import type { RegistryContext } from "./registry-context.js";
import { checkVersionNumber } from "./input-checks.js";
import { IncompatibleSchemaError, RegistryError } from "./registry-error.js";
import { prepareSchema, type PreparedSchema } from "./schema-input.js";
import { effectiveConfig, refuseIfReadOnly, refuseIfServerReadOnly, type EffectiveConfig } from "./settings.js";

/** The outcome of a registration. */
export interface Registration {
  id: string;
  version: number;
  /** False when the subject already had this content as a live version (which is returned). */
  created: boolean;
}

/**
 * How a registration is made, for API edges whose subjects are not message
 * names or that import histories from elsewhere.
 */
export interface RegisterOptions {
  /**
   * The message the subject is about: its schema is the files this message
   * needs, and compatibility is judged on it. Null keeps the whole set (a
   * schema without messages).
   * @default the subject
   */
  message?: string | null;
  /**
   * Register under this version number instead of the next one (an import
   * keeping a history's numbers): it must be above every version the
   * subject has had. The same number with the same content returns it.
   */
  version?: number;
  /**
   * Judge compatibility; false registers whatever the subject's mode says
   * (an import of a history that was already judged elsewhere).
   * @default true
   */
  check?: boolean;
}

/** What a compatibility check of a proposed schema found. */
export interface CompatibilityReport extends CompatibilityResult {
  /** The settings it was checked under. */
  config: EffectiveConfig;
  /** The id the schema would be registered under. */
  id: string;
  /** The versions it was checked against; empty when it already is a live version. */
  checkedVersions: number[];
  /** The live version that already has this content, 0 when it would be new. */
  existingVersion: number;
}

/**
 * Checks a prepared schema against the live versions of `record` that the
 * subject's mode names (the latest, or all for a transitive mode; none for
 * NONE). A schema that already is a live version passes unchecked.
 */
function judge(ctx: RegistryContext, message: string, prepared: PreparedSchema, record: SubjectRecord | undefined, config: EffectiveConfig, only?: number) {
  const live = (record?.versions ?? []).filter((v) => !v.deleted);
  const existing: VersionRecord | undefined = live.find((v) => v.id === prepared.id);
  if (existing && only === undefined) return { existing, checked: [] as number[], result: { compatible: true, violations: [] as Violation[] } };
  const chosen = only === undefined ? live : live.filter((v) => v.version === only);
  const against = config.mode === "NONE" ? [] : config.mode.endsWith("_TRANSITIVE") ? chosen : chosen.slice(-1);
  const history: SchemaVersion[] = against.map((v) => ({ version: v.version, schema: ctx.decodedSchema(v.id) }));
  const result = ctx.engine.checkCompatibility({ subject: message, next: prepared.extracted, history, mode: config.mode, category: config.category });
  return { existing, checked: against.map((v) => v.version), result };
}

/** Options of a compatibility check: the subject's message (see {@link RegisterOptions.message}) and one version to check against. */
export interface CheckOptions {
  message?: string | null;
  /** Check against this live version only, whatever the mode's transitivity. */
  against?: number;
}

/**
 * Checks `schema` (a binary FileDescriptorSet) against `subject` without
 * storing anything. @private
 */
export function checkSchema(ctx: RegistryContext, subject: string, schema: Uint8Array, options: CheckOptions = {}): CompatibilityReport {
  const message = options.message === undefined ? subject : options.message;
  const prepared = prepareSchema(subject, schema, ctx.maxSchemaBytes, ctx.engine, message);
  const config = effectiveConfig(ctx, subject);
  const { existing, checked, result } = judge(ctx, message ?? "", prepared, ctx.replica.state.subject(subject)?.value, config, options.against);
  return { ...result, config, id: prepared.id, checkedVersions: checked, existingVersion: existing?.version ?? 0 };
}

/**
 * Registers `schema` as the next version of `subject`, or returns the live
 * version that already has its content. The schema is stored first
 * (content-addressed, a no-op when present), then the subject's record by
 * compare-and-set against the revision it was read at; a lost race starts
 * over from the store's record. Throws {@link IncompatibleSchemaError},
 * or a RegistryError with reason `read_only`, `invalid_schema`,
 * `too_many_writers`. @private
 */
export async function registerSchema(ctx: RegistryContext, subject: string, schema: Uint8Array, options: RegisterOptions = {}): Promise<Registration> {
  refuseIfServerReadOnly(ctx);
  const message = options.message === undefined ? subject : options.message;
  if (options.version !== undefined) checkVersionNumber(options.version);
  const prepared = prepareSchema(subject, schema, ctx.maxSchemaBytes, ctx.engine, message);
  const subjectKey = keys.subject(subject);
  const schemaKey = keys.schema(prepared.id);
  return retryCompareAndSet(`registering ${subject}`, ctx.maxCasAttempts, async (attempt) => {
    // after a lost race the copy may not hold the winner's record yet: read it from the store
    if (attempt > 0) await ctx.replica.refresh(subjectKey);
    const found = ctx.replica.state.subject(subject);
    const config = effectiveConfig(ctx, subject);
    if (config.readOnly) refuseIfReadOnly(ctx);
    const record: SubjectRecord = found?.value ?? { versions: [], lastVersion: 0 };
    const asked = options.version;
    if (asked !== undefined && asked <= record.lastVersion) {
      const same = record.versions.find((v) => v.version === asked);
      if (same?.id === prepared.id && !same.deleted) return { id: same.id, version: same.version, created: false };
      throw new RegistryError("invalid_version", `${subject} version ${asked} cannot be registered: the subject has had versions up to ${record.lastVersion}`);
    }
    const unchecked = { ...config, mode: "NONE" as const };
    const { existing, result } = judge(ctx, message ?? "", prepared, found?.value, options.check === false ? unchecked : config);
    if (existing) return { id: existing.id, version: existing.version, created: false };
    if (!result.compatible) throw new IncompatibleSchemaError(subject, config.mode, config.category, result.violations);
    const preexisting = !(await ctx.replica.create(schemaKey, prepared.bytes));
    const version = asked ?? record.lastVersion + 1;
    const next = encodeJson({
      versions: [...record.versions, { version, id: prepared.id, deleted: false, registeredAt: new Date().toISOString() }],
      lastVersion: version,
    } satisfies SubjectRecord);
    const written = found ? await ctx.replica.update(subjectKey, next, found.revision) : await ctx.replica.create(subjectKey, next);
    if (!written) return undefined;
    // a permanent delete elsewhere may have collected the shared schema meanwhile
    if (preexisting && !(await ctx.replica.refresh(schemaKey))) await ctx.replica.put(schemaKey, prepared.bytes);
    return { id: prepared.id, version, created: true };
  });
}
