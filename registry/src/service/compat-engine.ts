import { createHash } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { CompatibilityRequest, CompatibilityResult, Violation } from "../compat/types.js";

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

/**
 * A minimal stand-in for the compatibility engine, used until
 * registry/src/compat lands and by unit tests: checks only field deletions
 * and field type changes of the subject message. @private
 */
export const provisionalEngine: CompatEngine = {
  validateSchemaSet(fds) {
    const names = new Set<string>();
    for (const f of fds.file) {
      if (names.has(f.name)) throw new Error(`duplicate file ${JSON.stringify(f.name)} in the descriptor set`);
      names.add(f.name);
    }
    for (const f of fds.file) {
      for (const dep of f.dependency) {
        if (!names.has(dep)) throw new Error(`file ${JSON.stringify(f.name)} imports ${JSON.stringify(dep)}, which is not in the descriptor set`);
      }
    }
  },
  normalizeSchema(fds) {
    const copy = clone(FileDescriptorSetSchema, fds);
    for (const f of copy.file) f.sourceCodeInfo = undefined;
    copy.file.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return copy;
  },
  schemaId(fds) {
    const bytes = toBinary(FileDescriptorSetSchema, provisionalEngine.normalizeSchema(fds));
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  },
  extractSubjectSchema(fds, name) {
    if (!messageNames(fds).has(name)) throw new Error(`message ${name} is not declared in the descriptor set`);
    return fds;
  },
  checkCompatibility(req) {
    if (req.mode === "NONE") return { compatible: true, violations: [] };
    const transitive = req.mode.endsWith("_TRANSITIVE");
    const against = transitive ? req.history : req.history.slice(-1);
    const violations: Violation[] = [];
    const next = findMessage(req.next, req.subject);
    for (const old of against) {
      const prev = findMessage(old.schema, req.subject);
      if (!prev || !next) continue;
      for (const f of prev.field) {
        const now = next.field.find((n) => n.number === f.number);
        const path = `${req.subject}.${f.name}`;
        if (!now) {
          const reserved = next.reservedRange.some((r) => f.number >= r.start && f.number < r.end);
          if (!reserved)
            violations.push({
              rule: "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
              message: `field ${f.number} "${f.name}" was deleted without reserving its number`,
              path,
              againstVersion: old.version,
            });
        } else if (now.type !== f.type || now.typeName !== f.typeName) {
          violations.push({ rule: "FIELD_WIRE_COMPATIBLE_TYPE", message: `field ${f.number} "${f.name}" changed type`, path, againstVersion: old.version });
        }
      }
    }
    return { compatible: violations.length === 0, violations };
  },
};

function findMessage(fds: FileDescriptorSet, fullName: string): DescriptorProto | undefined {
  for (const f of fds.file as FileDescriptorProto[]) {
    const found = find(f.package, f.messageType, fullName);
    if (found) return found;
  }
  return undefined;
}

function find(prefix: string, messages: readonly DescriptorProto[], fullName: string): DescriptorProto | undefined {
  for (const m of messages) {
    const name = prefix ? `${prefix}.${m.name}` : m.name;
    if (name === fullName) return m;
    const nested = find(name, m.nestedType, fullName);
    if (nested) return nested;
  }
  return undefined;
}

/** The engine the registry uses by default. @private */
export const defaultEngine: CompatEngine = provisionalEngine;
