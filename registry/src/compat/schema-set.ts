import { createHash } from "node:crypto";
import { clone, createFileRegistry, toBinary } from "@bufbuild/protobuf";
import {
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { SchemaValidationError } from "./errors.js";
import { defaultJsonName, indexSchema } from "./model.js";

/**
 * Check that a descriptor set can be registered: not empty, no file twice,
 * every import present in the set (well-known types included), no type
 * declared twice, every type reference resolvable.
 *
 * @throws SchemaValidationError with a `reason` (the service maps it to InvalidArgument).
 */
export function validateSchemaSet(fds: FileDescriptorSet): void {
  if (fds.file.length === 0) throw new SchemaValidationError("EMPTY_SCHEMA", "the descriptor set has no files");
  const names = new Set<string>();
  for (const f of fds.file) {
    if (names.has(f.name)) throw new SchemaValidationError("DUPLICATE_FILE", `file "${f.name}" appears twice in the descriptor set`, { file: f.name });
    names.add(f.name);
  }
  for (const f of fds.file) {
    for (const dep of f.dependency) {
      if (!names.has(dep)) {
        throw new SchemaValidationError(
          "UNRESOLVED_IMPORT",
          `file "${f.name}" imports "${dep}", which is not in the descriptor set; build it with imports included (buf build includes them by default)`,
          { file: f.name, element: dep },
        );
      }
    }
  }
  const declared = new Map<string, string>();
  const declare = (name: string, file: string): void => {
    const other = declared.get(name);
    if (other !== undefined) {
      throw new SchemaValidationError("DUPLICATE_NAME", `"${name}" is declared in both "${other}" and "${file}"`, { file, element: name });
    }
    declared.set(name, file);
  };
  for (const f of fds.file) {
    const walk = (prefix: string, messages: readonly DescriptorProto[], depth: number): void => {
      if (depth > 64) throw new SchemaValidationError("TOO_DEEP", `message nesting deeper than 64 levels in "${f.name}"`, { file: f.name });
      for (const m of messages) {
        const name = prefix + m.name;
        declare(name, f.name);
        for (const e of m.enumType) declare(`${name}.${e.name}`, f.name);
        walk(name + ".", m.nestedType, depth + 1);
      }
    };
    const prefix = f.package === "" ? "" : f.package + ".";
    for (const e of f.enumType) declare(prefix + e.name, f.name);
    walk(prefix, f.messageType, 0);
  }
  try {
    createFileRegistry(fds);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const reason = /not found|unable to resolve|cannot find/i.test(text) ? "UNRESOLVED_TYPE" : "INVALID_DESCRIPTOR";
    throw new SchemaValidationError(reason, `the descriptor set is not valid: ${text}`, { cause: e });
  }
}

/**
 * A canonical copy of a descriptor set, so that equal schemas hash equal:
 * files in dependency order (imports first, ties by name), source info and
 * unknown fields (such as Buf image extensions) dropped, every field's
 * `json_name` filled with protoc's default where it was empty.
 * The input is not modified.
 */
export function normalizeSchema(fds: FileDescriptorSet): FileDescriptorSet {
  const copy = copySet(fds);
  const byName = new Map<string, FileDescriptorProto>();
  for (const f of copy.file) {
    if (!byName.has(f.name)) byName.set(f.name, f);
    f.sourceCodeInfo = undefined;
    delete f.$unknown;
    for (const x of f.extension) fillJsonName(x);
    forEachMessage(f.messageType, (m) => {
      for (const field of m.field) fillJsonName(field);
      for (const x of m.extension) fillJsonName(x);
    });
  }
  const ordered: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (name: string): void => {
    const f = byName.get(name);
    if (f === undefined || done.has(name)) return;
    done.add(name);
    for (const dep of [...f.dependency].sort()) visit(dep);
    ordered.push(f);
  };
  for (const name of [...byName.keys()].sort()) visit(name);
  copy.file = ordered;
  return copy;
}

/** A deep copy; a set built in code with invalid values is rejected, not crashed on. */
function copySet(fds: FileDescriptorSet): FileDescriptorSet {
  try {
    return clone(FileDescriptorSetSchema, fds);
  } catch (e) {
    throw new SchemaValidationError("INVALID_DESCRIPTOR", `the descriptor set holds invalid values: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

function fillJsonName(field: FieldDescriptorProto): void {
  if (field.jsonName === "") field.jsonName = defaultJsonName(field.name);
}

function forEachMessage(messages: readonly DescriptorProto[], fn: (m: DescriptorProto) => void, depth = 0): void {
  if (depth > 64) return;
  for (const m of messages) {
    fn(m);
    forEachMessage(m.nestedType, fn, depth + 1);
  }
}

/**
 * The content id of a schema: `sha256:` and the hex SHA-256 of the
 * deterministic binary encoding of {@link normalizeSchema}'s result.
 * Stable across processes and machines; the same id means the same schema.
 */
export function schemaId(fds: FileDescriptorSet): string {
  let bytes: Uint8Array;
  try {
    bytes = toBinary(FileDescriptorSetSchema, normalizeSchema(fds));
  } catch (e) {
    // Only sets built in code can get here (e.g. an enum value outside a closed enum).
    throw new SchemaValidationError("INVALID_DESCRIPTOR", `the descriptor set cannot be serialized: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * The self-contained part of `fds` that one event needs: the file declaring
 * `messageFullName` and every file it imports, transitively (so its field
 * types, well-known types included, resolve). Files keep their input order.
 *
 * @throws SchemaValidationError (`SUBJECT_NOT_FOUND`) when no file declares the message.
 */
export function extractSubjectSchema(fds: FileDescriptorSet, messageFullName: string): FileDescriptorSet {
  const message = indexSchema(fds).messages.get(messageFullName);
  if (message === undefined) {
    throw new SchemaValidationError("SUBJECT_NOT_FOUND", `message "${messageFullName}" is not declared in the descriptor set`, { element: messageFullName });
  }
  const byName = new Map(fds.file.map((f) => [f.name, f]));
  const needed = new Set<string>();
  const stack = [message.file.path];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (needed.has(name)) continue;
    needed.add(name);
    for (const dep of byName.get(name)?.dependency ?? []) stack.push(dep);
  }
  const out = copySet(fds);
  out.file = out.file.filter((f) => needed.has(f.name));
  return out;
}
