import { create, toBinary } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/** A field of a test message: name, number and scalar type. @private */
export interface TestField {
  name: string;
  number: number;
  type?: "string" | "int64" | "int32" | "bool";
}

const types = {
  string: FieldDescriptorProto_Type.STRING,
  int64: FieldDescriptorProto_Type.INT64,
  int32: FieldDescriptorProto_Type.INT32,
  bool: FieldDescriptorProto_Type.BOOL,
};

/** A one-file descriptor set with message `name` (full name) and `fields`, for tests. @private */
export function messageSet(
  fullName: string,
  fields: readonly TestField[],
  extra: { name?: string; dependency?: string[]; reserved?: number[]; javaPackage?: string } = {},
): FileDescriptorSet {
  const dot = fullName.lastIndexOf(".");
  const pkg = fullName.slice(0, dot);
  const name = fullName.slice(dot + 1);
  const file: MessageInitShape<typeof FileDescriptorProtoSchema> = {
    name: extra.name ?? `${pkg.replaceAll(".", "/")}/${name.toLowerCase()}.proto`,
    dependency: extra.dependency ?? [],
    ...(extra.javaPackage ? { options: { javaPackage: extra.javaPackage } } : {}),
    package: pkg,
    syntax: "proto3",
    messageType: [
      {
        name,
        field: fields.map((f) => ({
          name: f.name,
          number: f.number,
          jsonName: f.name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
          label: FieldDescriptorProto_Label.OPTIONAL,
          type: types[f.type ?? "string"],
        })),
        reservedRange: (extra.reserved ?? []).map((n) => ({ start: n, end: n + 1 })),
      },
    ],
  };
  return create(FileDescriptorSetSchema, { file: [file] });
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
