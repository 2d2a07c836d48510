import type { CompatibilityMode, RuleCategory } from "../compat/types.js";
import { encodeJson, keys, type ConfigRecord } from "../storage/records.js";
import { checkSubjectName } from "./input-checks.js";
import { DEFAULT_CATEGORY, DEFAULT_MODE } from "./modes.js";
import type { RegistryContext } from "./registry-context.js";
import { RegistryError } from "./registry-error.js";

/** The settings that apply to a subject (or globally, for subject ""). */
export interface EffectiveConfig {
  /** The subject asked about; "" for the global settings. */
  subject: string;
  mode: CompatibilityMode;
  category: RuleCategory;
  /** The subject sets neither a mode nor a category of its own. */
  inherited: boolean;
  /** Writes are refused (server flag or stored global setting). */
  readOnly: boolean;
}

/** A change of settings; mode and category left out stay as they are. */
export interface ConfigChange {
  /** "" for the global settings. */
  subject: string;
  mode?: CompatibilityMode | undefined;
  category?: RuleCategory | undefined;
  /** Global only. */
  readOnly?: boolean | undefined;
  /** Drop the subject's own settings (subject only). */
  clear?: boolean;
}

/** The settings that apply to `subject` ("" for global), from the server's copy. @private */
export function effectiveConfig(ctx: RegistryContext, subject: string): EffectiveConfig {
  const global = ctx.replica.state.globalConfig()?.value ?? {};
  const own = subject === "" ? undefined : ctx.replica.state.subjectConfig(subject)?.value;
  return {
    subject,
    mode: own?.mode ?? global.mode ?? DEFAULT_MODE,
    category: own?.category ?? global.category ?? DEFAULT_CATEGORY,
    inherited: subject !== "" && own?.mode === undefined && own?.category === undefined,
    readOnly: ctx.serverReadOnly || global.readOnly === true,
  };
}

/** Throws `read_only` when the server was started read-only. @private */
export function refuseIfServerReadOnly(ctx: RegistryContext): void {
  if (ctx.serverReadOnly) throw new RegistryError("read_only", "the registry is read-only: writes are refused (server started with --read-only)");
}

/** Throws `read_only` when the server was started read-only or the stored global setting says so. @private */
export function refuseIfReadOnly(ctx: RegistryContext): void {
  refuseIfServerReadOnly(ctx);
  if (ctx.replica.state.globalConfig()?.value.readOnly) {
    throw new RegistryError("read_only", "the registry is read-only: writes are refused (global read_only is set; an admin can clear it with SetConfig)");
  }
}

/** The settings of `subject`, or the global ones for "". @private */
export function getConfig(ctx: RegistryContext, subject: string): EffectiveConfig {
  if (subject !== "") checkSubjectName(subject);
  return effectiveConfig(ctx, subject);
}

function invalidConfig(message: string): RegistryError {
  return new RegistryError("invalid_config", message);
}

/**
 * Changes settings: the global ones (mode, category, read-only; allowed
 * while the stored read-only flag is set, so that it can be cleared) or a
 * subject's (mode, category, or `clear` to inherit again). @private
 */
export async function setConfig(ctx: RegistryContext, change: ConfigChange): Promise<EffectiveConfig> {
  refuseIfServerReadOnly(ctx);
  const { subject, mode, category, readOnly } = change;
  const state = ctx.replica.state;
  if (subject === "") {
    if (change.clear) throw invalidConfig("clear applies to a subject's settings; the global settings cannot be cleared");
    if (!mode && !category && readOnly === undefined) throw invalidConfig("pass a mode, a category or read_only");
    const next: ConfigRecord = {
      ...state.globalConfig()?.value,
      ...(mode ? { mode } : {}),
      ...(category ? { category } : {}),
      ...(readOnly !== undefined ? { readOnly } : {}),
    };
    await ctx.replica.put(keys.globalConfig, encodeJson(next));
    return effectiveConfig(ctx, subject);
  }
  checkSubjectName(subject);
  if (readOnly !== undefined) throw invalidConfig("read_only is a global setting; leave subject empty to set it");
  refuseIfReadOnly(ctx);
  if (change.clear) {
    if (mode || category) throw invalidConfig("clear drops the subject's settings; do not pass a mode or category with it");
    await ctx.replica.remove(keys.subjectConfig(subject));
  } else {
    if (!mode && !category) throw invalidConfig("pass a mode, a category or clear");
    const current = state.subjectConfig(subject)?.value ?? {};
    await ctx.replica.put(keys.subjectConfig(subject), encodeJson({ ...current, ...(mode ? { mode } : {}), ...(category ? { category } : {}) }));
  }
  return effectiveConfig(ctx, subject);
}
