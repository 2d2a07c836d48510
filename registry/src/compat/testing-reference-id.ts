// Test helper: the schema id as first defined, written the plain way (copy
// the whole set, normalise the copy, encode it with toBinary, hash), kept as
// the reference the optimised schemaId must equal byte for byte. Not
// exported from the package.
import { createHash } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import {
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { defaultJsonName } from "./model.js";

/** sha256 of toBinary(normalised copy), as the registry has always computed it. */
export function referenceSchemaId(fds: FileDescriptorSet): string {
  const copy = clone(FileDescriptorSetSchema, fds);
  const byName = new Map<string, FileDescriptorProto>();
  const fill = (f: FieldDescriptorProto): void => {
    if (f.jsonName === "") f.jsonName = defaultJsonName(f.name);
  };
  const walk = (messages: readonly DescriptorProto[], depth: number): void => {
    if (depth > 64) return;
    for (const m of messages) {
      m.field.forEach(fill);
      m.extension.forEach(fill);
      walk(m.nestedType, depth + 1);
    }
  };
  for (const f of copy.file) {
    if (!byName.has(f.name)) byName.set(f.name, f);
    f.sourceCodeInfo = undefined;
    delete f.$unknown;
    f.extension.forEach(fill);
    walk(f.messageType, 0);
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
  return `sha256:${createHash("sha256").update(toBinary(FileDescriptorSetSchema, copy)).digest("hex")}`;
}
