import { create, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { extractSubjectSchema, schemaId } from "@chronicle/registry/compat";

/**
 * The schema registry's id of each event message (`sha256:...`), computed
 * exactly as the registry computes it when `chronicle schema push`
 * registers the event: the content hash of the normalised, self-contained
 * schema of the file declaring the message and its imports. Generated code
 * carries it, so producers send `ce-dataschema` without asking the registry.
 * `files` are every file buf sent (imports included).
 */
export function eventSchemaIds(files: readonly DescFile[], typeNames: readonly string[]): Map<string, string> {
  const set = create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) });
  return new Map(typeNames.map((t) => [t, schemaId(extractSubjectSchema(set, t))]));
}
