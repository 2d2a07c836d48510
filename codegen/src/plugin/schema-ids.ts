import { create, fromBinary, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { extractSubjectSchema, schemaId } from "@chronicle/registry/compat";

/**
 * The schema registry's id of each event message (`sha256:...`), computed
 * as the registry computes it when `chronicle schema push` registers the
 * event: the set is read the way the registry reads a registration (without
 * unknown fields, so custom options such as Chronicle's own are not part of
 * it), cut to the file declaring the message and its imports, normalised
 * and hashed. Generated code carries the id, so producers send
 * `ce-dataschema` without asking the registry. `files` are every file buf
 * sent (imports included). A test registers a schema with a running
 * registry and compares ids, so the two cannot drift apart unnoticed.
 */
export function eventSchemaIds(files: readonly DescFile[], typeNames: readonly string[]): Map<string, string> {
  const sent = create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) });
  const asRegistered = fromBinary(FileDescriptorSetSchema, toBinary(FileDescriptorSetSchema, sent), { readUnknownFields: false });
  return new Map(typeNames.map((t) => [t, schemaId(extractSubjectSchema(asRegistered, t))]));
}
