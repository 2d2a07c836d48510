import type { Registry } from "../service/registry.js";
import { ConfluentError, confluentCodes } from "./confluent-error.js";

/** Confluent's registry modes: what writes a subject (or the registry) takes. */
export type AccessMode = "READWRITE" | "READONLY" | "IMPORT";

/** Every mode, for messages. */
export const ACCESS_MODES: readonly AccessMode[] = ["READWRITE", "READONLY", "IMPORT"];

const GLOBAL_KEY = "edge.confluent.mode.global";
const subjectKey = (subject: string) => `edge.confluent.mode.subjects.${subject}`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function read(registry: Registry, key: string): AccessMode | undefined {
  const found = registry.edgeRecords.get(key);
  return found ? (decoder.decode(found.value) as AccessMode) : undefined;
}

/**
 * The global mode: READONLY when the registry refuses writes (the server
 * flag, or the global read-only setting that the Connect API's SetConfig
 * also changes), else the stored mode, else READWRITE.
 */
export function globalMode(registry: Registry): AccessMode {
  if (registry.getConfig("").readOnly) return "READONLY";
  return read(registry, GLOBAL_KEY) ?? "READWRITE";
}

/** A subject's own mode; undefined when it has none. */
export function subjectMode(registry: Registry, subject: string): AccessMode | undefined {
  return read(registry, subjectKey(subject));
}

/** The mode that applies to `subject`: READONLY globally wins, then the subject's own, then the global one. */
export function effectiveMode(registry: Registry, subject: string): AccessMode {
  const global = globalMode(registry);
  if (global === "READONLY") return global;
  return subjectMode(registry, subject) ?? global;
}

/** Checks a mode name; 422/42204 otherwise. */
export function checkMode(value: unknown): AccessMode {
  if (typeof value === "string" && (ACCESS_MODES as readonly string[]).includes(value)) return value as AccessMode;
  throw new ConfluentError(422, confluentCodes.invalidMode, `Invalid mode. Valid values are: ${ACCESS_MODES.join(", ")}`);
}

/** Refuses a write to `subject` in READONLY mode (422/42205). */
export function refuseReadOnly(registry: Registry, subject: string): void {
  if (effectiveMode(registry, subject) === "READONLY") {
    throw new ConfluentError(422, confluentCodes.operationNotPermitted, `Subject ${subject || "(global)"} is in read-only mode`);
  }
}

/**
 * Sets the global mode (subject "") or a subject's. The global READONLY is
 * the registry's read-only setting; IMPORT and per-subject modes are
 * records of this API.
 */
export async function setMode(registry: Registry, subject: string, mode: AccessMode): Promise<void> {
  if (subject !== "") {
    await registry.edgeRecords.put(subjectKey(subject), encoder.encode(mode));
    return;
  }
  const readOnly = mode === "READONLY";
  if (registry.getConfig("").readOnly !== readOnly) await registry.setConfig({ subject: "", readOnly });
  if (mode === "IMPORT") await registry.edgeRecords.put(GLOBAL_KEY, encoder.encode(mode));
  else if (read(registry, GLOBAL_KEY) !== undefined) await registry.edgeRecords.remove(GLOBAL_KEY);
}

/** Drops a subject's own mode; returns the one it had. */
export async function clearSubjectMode(registry: Registry, subject: string): Promise<AccessMode | undefined> {
  const had = subjectMode(registry, subject);
  if (had !== undefined) await registry.edgeRecords.remove(subjectKey(subject));
  return had;
}
