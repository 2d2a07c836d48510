import type { DescriptorProto, FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { checkCompatibility, extractSubjectSchema, normalizeSchema, schemaId, validateSchemaSet } from "../compat/index.js";
import type { CompatibilityRequest, CompatibilityResult } from "../compat/types.js";

/**
 * The compatibility engine functions the service uses (registry/src/compat).
 * The service takes them as a parameter so that it can be tested with a
 * stand-in and so that this file is the only place that wires the engine in.
 * @private
 */
export interface CompatEngine {
  checkCompatibility(req: CompatibilityRequest): CompatibilityResult;
  normalizeSchema(fds: FileDescriptorSet): FileDescriptorSet;
  schemaId(fds: FileDescriptorSet): string;
  /** Throws (SchemaValidationError) with a reason when the set is not self-contained or has duplicate files. */
  validateSchemaSet(fds: FileDescriptorSet): void;
  /** The self-contained subset of `fds` that `messageFullName` needs. */
  extractSubjectSchema(fds: FileDescriptorSet, messageFullName: string): FileDescriptorSet;
}

/** Lists every message full name declared in a descriptor set. @private */
export function messageNames(fds: FileDescriptorSet): Set<string> {
  const names = new Set<string>();
  const walk = (prefix: string, messages: readonly DescriptorProto[]) => {
    for (const m of messages) {
      const name = prefix ? `${prefix}.${m.name}` : m.name;
      names.add(name);
      walk(name, m.nestedType);
    }
  };
  for (const f of fds.file) walk(f.package, f.messageType);
  return names;
}

/** The engine the registry uses by default: registry/src/compat. @private */
export const defaultEngine: CompatEngine = { checkCompatibility, normalizeSchema, schemaId, validateSchemaSet, extractSubjectSchema };
