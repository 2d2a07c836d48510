// Test helper: builds FileDescriptorSets in code, so that unit tests need no
// compiler. Not exported from the package.
import { create } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
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

const scalarTypes: Record<string, FieldDescriptorProto_Type> = {
  double: FieldDescriptorProto_Type.DOUBLE,
  float: FieldDescriptorProto_Type.FLOAT,
  int64: FieldDescriptorProto_Type.INT64,
  uint64: FieldDescriptorProto_Type.UINT64,
  int32: FieldDescriptorProto_Type.INT32,
  fixed64: FieldDescriptorProto_Type.FIXED64,
  fixed32: FieldDescriptorProto_Type.FIXED32,
  bool: FieldDescriptorProto_Type.BOOL,
  string: FieldDescriptorProto_Type.STRING,
  bytes: FieldDescriptorProto_Type.BYTES,
  uint32: FieldDescriptorProto_Type.UINT32,
  sfixed32: FieldDescriptorProto_Type.SFIXED32,
  sfixed64: FieldDescriptorProto_Type.SFIXED64,
  sint32: FieldDescriptorProto_Type.SINT32,
  sint64: FieldDescriptorProto_Type.SINT64,
};

/** Options of a field built by {@link field}. */
export interface FieldSpec {
  name: string;
  number: number;
  /** A scalar name, or `.pkg.Message` / `enum:.pkg.Enum` for references. */
  type: string;
  repeated?: boolean;
  oneofIndex?: number;
  jsonName?: string;
}

/** A field: `type` is a scalar name (`int64`), a message (`.pkg.Msg`) or an enum (`enum:.pkg.Enum`). */
export function field(name: string, number: number, type: string, extra: Partial<FieldSpec> = {}): FieldDescriptorProto {
  const spec = { name, number, type, ...extra };
  const label = spec.repeated === true ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL;
  const f = create(FieldDescriptorProtoSchema, { name, number, label });
  if (type.startsWith("enum:")) {
    f.type = FieldDescriptorProto_Type.ENUM;
    f.typeName = type.slice(5);
  } else if (type.startsWith(".")) {
    f.type = FieldDescriptorProto_Type.MESSAGE;
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

/** A message with fields, and optionally reservations, nested messages and enums, oneofs. */
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

/** An enum with `[name, number]` values and optional reservations. */
export function enumType(name: string, values: [string, number][], extra: { reservedNumbers?: number[]; reservedNames?: string[] } = {}): EnumDescriptorProto {
  return create(EnumDescriptorProtoSchema, {
    name,
    value: values.map(([n, v]) => ({ name: n, number: v })),
    reservedRange: (extra.reservedNumbers ?? []).map((n) => ({ start: n, end: n })),
    reservedName: extra.reservedNames ?? [],
  });
}

/** A file of a package (proto3 unless told), with its messages, enums and imports. */
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

/** A descriptor set of the files, in the order given. */
export function set(...files: FileDescriptorProto[]): FileDescriptorSet {
  return create(FileDescriptorSetSchema, { file: files });
}

/**
 * A file of `count` events of package `gen.v1` in version `version`: each
 * event has an id, a `Money` (shared, declared in the same file), a nested
 * `Line` list and a `Status` enum; each later version adds a field to every
 * 10th event. For measuring how checks grow with the messages of one file.
 */
export function generatedEventsFile(count: number, version: number): FileDescriptorProto {
  const events: DescriptorProto[] = [];
  for (let i = 0; i < count; i++) {
    const fields = [
      field("id", 1, "string"),
      field("total", 2, ".gen.v1.Money"),
      field("lines", 3, `.gen.v1.E${i}.Line`, { repeated: true }),
      field("status", 4, "enum:.gen.v1.Status"),
    ];
    for (let v = 2; v <= version; v++) if (i % 10 === 0) fields.push(field(`note_v${v}`, 10 + v, "string"));
    events.push(message(`E${i}`, fields, { nested: [message("Line", [field("sku", 1, "string"), field("qty", 2, "int32")])] }));
  }
  const money = message("Money", [field("currency", 1, "string"), field("units", 2, "int64")]);
  const status = enumType("Status", [
    ["STATUS_UNSPECIFIED", 0],
    ["STATUS_OPEN", 1],
  ]);
  return file("gen/v1/events.proto", "gen.v1", [money, ...events], { enums: [status] });
}
