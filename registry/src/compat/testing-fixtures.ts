// Test helper: builds FileDescriptorSets in code, so that unit tests need no
// compiler. Not exported from the package.
import { create } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  EnumDescriptorProtoSchema,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

const scalarTypes: Record<string, number> = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};

export interface FieldSpec {
  name: string;
  number: number;
  /** A scalar name, or `.pkg.Message` / `enum:.pkg.Enum` for references. */
  type: string;
  repeated?: boolean;
  oneofIndex?: number;
  jsonName?: string;
}

export function field(name: string, number: number, type: string, extra: Partial<FieldSpec> = {}): FieldDescriptorProto {
  const spec = { name, number, type, ...extra };
  const f = create(FieldDescriptorProtoSchema, { name, number, label: spec.repeated === true ? 3 : 1 });
  if (type.startsWith("enum:")) {
    f.type = 14;
    f.typeName = type.slice(5);
  } else if (type.startsWith(".")) {
    f.type = 11;
    f.typeName = type;
  } else {
    const t = scalarTypes[type];
    if (t === undefined) throw new Error(`unknown scalar ${type}`);
    f.type = t;
  }
  if (spec.oneofIndex !== undefined) f.oneofIndex = spec.oneofIndex;
  if (spec.jsonName !== undefined) f.jsonName = spec.jsonName;
  return f;
}

export function message(
  name: string,
  fields: FieldDescriptorProto[],
  extra: { reservedNumbers?: number[]; reservedNames?: string[]; nested?: DescriptorProto[]; enums?: EnumDescriptorProto[]; oneofs?: string[] } = {},
): DescriptorProto {
  return create(DescriptorProtoSchema, {
    name,
    field: fields,
    nestedType: extra.nested ?? [],
    enumType: extra.enums ?? [],
    oneofDecl: (extra.oneofs ?? []).map((n) => ({ name: n })),
    reservedRange: (extra.reservedNumbers ?? []).map((n) => ({ start: n, end: n + 1 })),
    reservedName: extra.reservedNames ?? [],
  });
}

export function enumType(name: string, values: [string, number][], extra: { reservedNumbers?: number[]; reservedNames?: string[] } = {}): EnumDescriptorProto {
  return create(EnumDescriptorProtoSchema, {
    name,
    value: values.map(([n, v]) => ({ name: n, number: v })),
    reservedRange: (extra.reservedNumbers ?? []).map((n) => ({ start: n, end: n })),
    reservedName: extra.reservedNames ?? [],
  });
}

export function file(
  name: string,
  pkg: string,
  messages: DescriptorProto[],
  extra: { enums?: EnumDescriptorProto[]; deps?: string[]; syntax?: string } = {},
): FileDescriptorProto {
  return create(FileDescriptorProtoSchema, {
    name,
    package: pkg,
    syntax: extra.syntax ?? "proto3",
    messageType: messages,
    enumType: extra.enums ?? [],
    dependency: extra.deps ?? [],
  });
}

export function set(...files: FileDescriptorProto[]): FileDescriptorSet {
  return create(FileDescriptorSetSchema, { file: files });
}
