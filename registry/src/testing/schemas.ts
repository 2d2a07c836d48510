import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, FileOptionsSchema, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { field, file, message, set } from "../compat/testing-fixtures.js";

/** A field of a test message: name, number and scalar type. @private */
export interface TestField {
  name: string;
  number: number;
  type?: "string" | "int64" | "int32" | "bool";
}

/**
 * A one-file descriptor set with message `name` (full name) and `fields`, for
 * tests, built with the compatibility engine's descriptor fixture. @private
 */
export function messageSet(
  fullName: string,
  fields: readonly TestField[],
  extra: { name?: string; dependency?: string[]; reserved?: number[]; javaPackage?: string } = {},
): FileDescriptorSet {
  const dot = fullName.lastIndexOf(".");
  const pkg = fullName.slice(0, dot);
  const name = fullName.slice(dot + 1);
  const jsonName = (fieldName: string): string => fieldName.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  const messageFields = fields.map((f) => field(f.name, f.number, f.type ?? "string", { jsonName: jsonName(f.name) }));
  const proto = file(
    extra.name ?? `${pkg.replaceAll(".", "/")}/${name.toLowerCase()}.proto`,
    pkg,
    [message(name, messageFields, { reservedNumbers: extra.reserved ?? [] })],
    {
      deps: extra.dependency ?? [],
    },
  );
  if (extra.javaPackage) proto.options = create(FileOptionsSchema, { javaPackage: extra.javaPackage });
  return set(proto);
}

/** Serialized form of {@link messageSet}. @private */
export function messageSetBytes(
  fullName: string,
  fields: readonly TestField[],
  extra: { name?: string; dependency?: string[]; reserved?: number[]; javaPackage?: string } = {},
): Uint8Array {
  return toBinary(FileDescriptorSetSchema, messageSet(fullName, fields, extra));
}

/** Serializes a descriptor set built from files. @private */
export function setBytes(files: FileDescriptorProto[]): Uint8Array {
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));
}
