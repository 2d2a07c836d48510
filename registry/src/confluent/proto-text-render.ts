import { createFileRegistry, getExtension, isFieldSet, type DescExtension, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { toText } from "@bufbuild/protobuf/txtpb";
import {
  Edition,
  EnumOptionsSchema,
  FieldDescriptorProtoSchema,
  EnumValueOptionsSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldOptionsSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  MethodOptionsSchema,
  OneofOptionsSchema,
  ServiceOptionsSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { defaultJsonName } from "../compat/model.js";

/** Scalar type keywords of the proto language, by descriptor type. */
const SCALARS: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: "double",
  [Type.FLOAT]: "float",
  [Type.INT64]: "int64",
  [Type.UINT64]: "uint64",
  [Type.INT32]: "int32",
  [Type.FIXED64]: "fixed64",
  [Type.FIXED32]: "fixed32",
  [Type.BOOL]: "bool",
  [Type.STRING]: "string",
  [Type.BYTES]: "bytes",
  [Type.UINT32]: "uint32",
  [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64",
  [Type.SINT32]: "sint32",
  [Type.SINT64]: "sint64",
};

/** The largest field number plus one: `max` in ranges. */
const MAX_FIELD_END = 536870912;

/** A proto string literal: UTF-8 as is, quotes, backslashes and control characters escaped. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One value of a custom option as the option syntax writes it: a literal, an enum value name, or a `{ ... }` message in text format. */
function extensionValueText(ext: DescExtension, value: unknown, registry: Registry): string {
  if (ext.fieldKind === "message" || (ext.fieldKind === "list" && ext.listKind === "message")) {
    const schema = ext.message!;
    const text = toText(schema, value as never, { registry }).trimEnd();
    return text === "" ? "{}" : `{\n${text}\n}`;
  }
  const e = ext.fieldKind === "enum" ? ext.enum : ext.fieldKind === "list" && ext.listKind === "enum" ? ext.enum : undefined;
  if (e) return e.values.find((v) => v.number === value)?.name ?? String(value);
  return typeof value === "string" ? quote(value) : String(value);
}

/**
 * Custom options of an options message (extensions, held as unknown fields
 * in a stored schema), resolved through the extensions the schema's own
 * files declare, in the order they were stored. An unknown field that no
 * file declares an extension for cannot be written as text and is left out.
 */
function customOptionPairs(schema: DescMessage, options: Message, registry: Registry | undefined): string[] {
  const unknown = (options as { $unknown?: Array<{ no: number }> }).$unknown;
  if (!registry || !unknown || unknown.length === 0) return [];
  const extendee = registry.getMessage(schema.typeName);
  if (!extendee) return [];
  const pairs: string[] = [];
  for (const no of new Set(unknown.map((u) => u.no))) {
    const ext = registry.getExtensionFor(extendee, no);
    if (!ext) continue;
    const value: unknown = getExtension(options as never, ext);
    const values = ext.fieldKind === "list" ? (value as unknown[]) : [value];
    for (const v of values) pairs.push(`(${ext.typeName}) = ${extensionValueText(ext, v, registry)}`);
  }
  return pairs;
}

/**
 * The options set on an options message, as `name = value` pairs: the
 * standard ones in field-number order, then the custom ones. Standard
 * options are scalars and enums in the language's plain syntax; the
 * message-valued ones (editions' `features`) and uninterpreted options are
 * left out.
 */
function optionPairs(schema: DescMessage, options: Message | undefined, registry: Registry | undefined, skip: readonly string[] = []): string[] {
  if (!options) return [];
  const pairs: string[] = [];
  for (const field of [...schema.fields].sort((a, b) => a.number - b.number)) {
    if (skip.includes(field.name) || field.fieldKind === "message" || field.fieldKind === "list" || field.fieldKind === "map") continue;
    if (!isFieldSet(options as never, field)) continue;
    const value = (options as unknown as Record<string, unknown>)[field.localName];
    let text: string;
    if (field.fieldKind === "enum") text = field.enum.values.find((v) => v.number === value)?.name ?? String(value);
    else if (typeof value === "string") text = quote(value);
    else text = String(value);
    pairs.push(`${field.name} = ${text}`);
  }
  return [...pairs, ...customOptionPairs(schema, options, registry)];
}

function optionLines(schema: DescMessage, options: Message | undefined, indent: string, registry: Registry | undefined, skip?: readonly string[]): string[] {
  return optionPairs(schema, options, registry, skip).map((p) => `${indent}option ${p};`);
}

function bracketed(pairs: readonly string[]): string {
  return pairs.length === 0 ? "" : ` [${pairs.join(", ")}]`;
}

function rangeText(start: number, endExclusive: number): string {
  if (endExclusive === start + 1) return String(start);
  return `${start} to ${endExclusive >= MAX_FIELD_END ? "max" : endExclusive - 1}`;
}

/** How a file's syntax shapes field labels. */
type Syntax = "proto2" | "proto3" | "editions";

function syntaxOf(file: FileDescriptorProto): Syntax {
  if (file.syntax === "proto3") return "proto3";
  if (file.syntax === "editions") return "editions";
  return "proto2";
}

function typeText(field: FieldDescriptorProto): string {
  return SCALARS[field.type] ?? field.typeName;
}

function labelText(field: FieldDescriptorProto, syntax: Syntax, inOneof: boolean): string {
  if (inOneof) return "";
  if (field.label === Label.REPEATED) return "repeated ";
  if (syntax === "proto3") return field.proto3Optional ? "optional " : "";
  if (syntax === "editions") return "";
  return field.label === Label.REQUIRED ? "required " : "optional ";
}

function defaultText(field: FieldDescriptorProto): string {
  if (field.type === Type.STRING) return quote(field.defaultValue);
  // bytes defaults are stored C-escaped already
  if (field.type === Type.BYTES) return `"${field.defaultValue}"`;
  return field.defaultValue;
}

function fieldOptionPairs(field: FieldDescriptorProto, isExtension: boolean, registry: Registry | undefined): string[] {
  const pairs: string[] = [];
  if (isFieldSet(field, FieldDescriptorProtoSchema.field.defaultValue)) pairs.push(`default = ${defaultText(field)}`);
  if (!isExtension && field.jsonName !== "" && field.jsonName !== defaultJsonName(field.name)) pairs.push(`json_name = ${quote(field.jsonName)}`);
  return [...pairs, ...optionPairs(FieldOptionsSchema, field.options, registry)];
}

const registries = new WeakMap<FileDescriptorSet, Registry | undefined>();

/** The extensions a set declares, for custom options; undefined when the set does not make a registry. */
function extensionRegistry(set: FileDescriptorSet): Registry | undefined {
  if (!registries.has(set)) {
    let registry: Registry | undefined;
    try {
      registry = createFileRegistry(set);
    } catch {
      registry = undefined;
    }
    registries.set(set, registry);
  }
  return registries.get(set);
}

/** Renders one message, enum, service or extension block into `out`. */
class Renderer {
  readonly out: string[] = [];
  constructor(
    readonly syntax: Syntax,
    readonly registry: Registry | undefined,
  ) {}

  line(indent: string, text: string): void {
    this.out.push(indent + text);
  }

  field(field: FieldDescriptorProto, indent: string, inOneof: boolean, isExtension: boolean): void {
    this.line(
      indent,
      `${labelText(field, this.syntax, inOneof)}${typeText(field)} ${field.name} = ${field.number}${bracketed(fieldOptionPairs(field, isExtension, this.registry))};`,
    );
  }

  mapField(field: FieldDescriptorProto, entry: DescriptorProto, indent: string): void {
    const key = entry.field.find((f) => f.number === 1)!;
    const value = entry.field.find((f) => f.number === 2)!;
    this.line(indent, `map<${typeText(key)}, ${typeText(value)}> ${field.name} = ${field.number}${bracketed(fieldOptionPairs(field, false, this.registry))};`);
  }

  group(field: FieldDescriptorProto, type: DescriptorProto, indent: string, inOneof: boolean): void {
    this.line(
      indent,
      `${labelText(field, this.syntax, inOneof)}group ${type.name} = ${field.number}${bracketed(fieldOptionPairs(field, false, this.registry))} {`,
    );
    this.messageBody(type, `${indent}  `);
    this.line(indent, "}");
  }

  extensions(fields: readonly FieldDescriptorProto[], indent: string): void {
    const byExtendee = new Map<string, FieldDescriptorProto[]>();
    for (const f of fields) byExtendee.set(f.extendee, [...(byExtendee.get(f.extendee) ?? []), f]);
    for (const [extendee, list] of byExtendee) {
      this.line(indent, `extend ${extendee} {`);
      for (const f of list) this.field(f, `${indent}  `, false, true);
      this.line(indent, "}");
    }
  }

  enumType(e: EnumDescriptorProto, indent: string): void {
    this.line(indent, `enum ${e.name} {`);
    const inner = `${indent}  `;
    for (const l of optionLines(EnumOptionsSchema, e.options, inner, this.registry)) this.line("", l);
    for (const v of e.value) this.line(inner, `${v.name} = ${v.number}${bracketed(optionPairs(EnumValueOptionsSchema, v.options, this.registry))};`);
    // enum reserved ranges are inclusive at both ends
    for (const r of e.reservedRange) this.line(inner, `reserved ${r.start === r.end ? r.start : `${r.start} to ${r.end === 2147483647 ? "max" : r.end}`};`);
    if (e.reservedName.length > 0) this.line(inner, `reserved ${e.reservedName.map(quote).join(", ")};`);
    this.line(indent, "}");
  }

  message(m: DescriptorProto, indent: string): void {
    this.line(indent, `message ${m.name} {`);
    this.messageBody(m, `${indent}  `);
    this.line(indent, "}");
  }

  /**
   * The body of a message. Declarations come out in an order that a parser
   * turns back into the same descriptor: fields in their order, each map
   * or group field after the nested types declared before its generated
   * entry type (parsers add that type where the field stands), oneof
   * members together in their oneof block.
   */
  messageBody(m: DescriptorProto, indent: string): void {
    for (const l of optionLines(MessageOptionsSchema, m.options, indent, this.registry, ["map_entry"])) this.line("", l);
    const nestedIndex = (typeName: string) => m.nestedType.findIndex((n) => typeName.endsWith(`.${m.name}.${n.name}`) || typeName === n.name);
    const generated = new Set<number>();
    const generatedBy = new Map<FieldDescriptorProto, number>();
    for (const f of m.field) {
      if (f.type !== Type.MESSAGE && f.type !== Type.GROUP) continue;
      const i = nestedIndex(f.typeName);
      if (i < 0) continue;
      const isMap = f.type === Type.MESSAGE && f.label === Label.REPEATED && m.nestedType[i]!.options?.mapEntry === true;
      if (isMap || f.type === Type.GROUP) {
        generated.add(i);
        generatedBy.set(f, i);
      }
    }
    let nextNested = 0;
    const nestedUpTo = (end: number) => {
      for (; nextNested < end; nextNested++) if (!generated.has(nextNested)) this.message(m.nestedType[nextNested]!, indent);
    };
    const emitField = (f: FieldDescriptorProto, at: string, inOneof: boolean) => {
      const i = generatedBy.get(f);
      if (i === undefined) return this.field(f, at, inOneof, false);
      const type = m.nestedType[i]!;
      if (f.type === Type.GROUP) this.group(f, type, at, inOneof);
      else this.mapField(f, type, at);
    };
    // oneof_index reads 0 when unset (descriptor.proto is proto2): ask whether it is set
    const realOneof = (f: FieldDescriptorProto) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional;
    const printedOneofs = new Set<number>();
    for (const f of m.field) {
      const i = generatedBy.get(f);
      if (i !== undefined) nestedUpTo(i);
      if (!realOneof(f)) {
        emitField(f, indent, false);
        continue;
      }
      const o = f.oneofIndex!;
      if (printedOneofs.has(o)) continue;
      printedOneofs.add(o);
      const decl = m.oneofDecl[o]!;
      this.line(indent, `oneof ${decl.name} {`);
      for (const l of optionLines(OneofOptionsSchema, decl.options, `${indent}  `, this.registry)) this.line("", l);
      for (const member of m.field.filter((x) => realOneof(x) && x.oneofIndex === o)) {
        const j = generatedBy.get(member);
        if (j !== undefined) nestedUpTo(j);
        emitField(member, `${indent}  `, true);
      }
      this.line(indent, "}");
    }
    nestedUpTo(m.nestedType.length);
    for (const e of m.enumType) this.enumType(e, indent);
    this.extensions(m.extension, indent);
    for (const r of m.extensionRange) this.line(indent, `extensions ${rangeText(r.start, r.end)};`);
    for (const r of m.reservedRange) this.line(indent, `reserved ${rangeText(r.start, r.end)};`);
    if (m.reservedName.length > 0) this.line(indent, `reserved ${m.reservedName.map(quote).join(", ")};`);
  }

  service(s: ServiceDescriptorProto): void {
    this.line("", `service ${s.name} {`);
    for (const l of optionLines(ServiceOptionsSchema, s.options, "  ", this.registry)) this.line("", l);
    for (const method of s.method) {
      const signature = `rpc ${method.name}(${method.clientStreaming ? "stream " : ""}${method.inputType}) returns (${method.serverStreaming ? "stream " : ""}${method.outputType})`;
      const options = optionLines(MethodOptionsSchema, method.options, "    ", this.registry);
      if (options.length === 0) this.line("  ", `${signature};`);
      else {
        this.line("  ", `${signature} {`);
        for (const l of options) this.line("", l);
        this.line("  ", "}");
      }
    }
    this.line("", "}");
  }
}

/**
 * Renders a file descriptor as `.proto` source text that a compiler turns
 * back into the same descriptor (once normalised): the text Confluent's API
 * answers for a schema. Type names are written fully qualified
 * (`.acme.orders.v1.Money`), so the text needs no scope resolution to mean
 * what the descriptor means. Custom options are written when `set` (the
 * schema the file belongs to) declares their extensions. Comments and
 * formatting of the original source are not in a normalised schema and so
 * not in the text.
 */
export function renderProtoFile(file: FileDescriptorProto, set?: FileDescriptorSet): string {
  const syntax = syntaxOf(file);
  const r = new Renderer(syntax, set ? extensionRegistry(set) : undefined);
  if (syntax === "editions") r.line("", `edition = ${quote((Edition[file.edition] ?? String(file.edition)).replace(/^EDITION_/, ""))};`);
  else r.line("", `syntax = ${quote(syntax)};`);
  if (file.package) r.line("", `package ${file.package};`);
  file.dependency.forEach((dep, i) => {
    const kind = file.publicDependency.includes(i) ? "public " : file.weakDependency.includes(i) ? "weak " : "";
    r.line("", `import ${kind}${quote(dep)};`);
  });
  for (const l of optionLines(FileOptionsSchema, file.options, "", r.registry)) r.line("", l);
  for (const m of file.messageType) r.message(m, "");
  for (const e of file.enumType) r.enumType(e, "");
  for (const s of file.service) r.service(s);
  r.extensions(file.extension, "");
  return `${r.out.join("\n")}\n`;
}
