import { create, fromBinary, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { extractSubjectSchema, schemaId } from "@chronicle/registry/compat";
import type { EventModel } from "../model/types.js";

/**
 * The schema registry's id of each event message (`sha256:...`), computed
 * as the registry computes it when `chronicle schema push` registers the
 * event: the set is read the way the registry reads a registration (without
 * unknown fields, so custom options such as Chronicle's own are not part of
 * it), cut to the file declaring the message and its imports, normalised
 * and hashed. Generated code carries the id, so producers send
 * `ce-dataschema` without asking the registry. `files` are every file buf
 * sent (imports included). A subject's schema depends only on the file that
 * declares it, so events of one file share one id, computed once. A test
 * registers a schema with a running registry and compares ids, so the two
 * cannot drift apart unnoticed.
 */
export function eventSchemaIds(files: readonly DescFile[], events: readonly EventModel[]): Map<string, string> {
  const sent = create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) });
  const asRegistered = fromBinary(FileDescriptorSetSchema, toBinary(FileDescriptorSetSchema, sent), { readUnknownFields: false });
  const byFile = new Map<string, string>();
  const ids = new Map<string, string>();
  for (const e of events) {
    const file = e.desc.file.proto.name;
    let id = byFile.get(file);
    if (id === undefined) {
      // the registry's extraction copies the set it is given: give it only the file and its imports, so each file costs its own size
      id = schemaId(extractSubjectSchema(importClosure(asRegistered, file), e.typeName));
      byFile.set(file, id);
    }
    ids.set(e.typeName, id);
  }
  return ids;
}

/** The files of `set` that `file` needs (itself and its imports, transitively), in the set's order. */
function importClosure(set: FileDescriptorSet, file: string): FileDescriptorSet {
  const byName = new Map(set.file.map((f) => [f.name, f]));
  const needed = new Set<string>();
  for (const stack = [file]; stack.length > 0;) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    stack.push(...(byName.get(name)?.dependency ?? []));
  }
  return create(FileDescriptorSetSchema, { file: set.file.filter((f) => needed.has(f.name)) });
}
