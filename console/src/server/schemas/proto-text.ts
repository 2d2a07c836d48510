import { isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";

/** One rendered line and the full name of the element it declares ("" for structure). */
export interface RenderedLine {
  text: string;
  element: string;
}

const SCALARS: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

/** Files every schema carries and nobody needs to read: the well-known types and Chronicle's options. */
function isLibraryFile(name: string): boolean {
  return name.startsWith("google/protobuf/") || name === "chronicle/v1/options.proto";
}

function defaultJsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function ranges(rs: readonly { start?: number; end?: number }[], exclusiveEnd: boolean): string {
  return rs
    .map((r) => {
      const start = r.start ?? 0;
      const end = (r.end ?? 0) - (exclusiveEnd ? 1 : 0);
      return end === start ? String(start) : end >= 536_870_911 ? `${start} to max` : `${start} to ${end}`;
    })
    .join(", ");
}

class Printer {
  readonly lines: RenderedLine[] = [];
  private depth = 0;
  constructor(private readonly pkg: string) {}

  line(text: string, element = ""): void {
    this.lines.push({ text: text === "" ? "" : "  ".repeat(this.depth) + text, element });
  }
  open(text: string, element: string): void {
    this.line(`${text} {`, element);
    this.depth++;
  }
  close(): void {
    this.depth--;
    this.line("}");
  }
  /** A type name as written inside this file's package. */
  typeRef(typeName: string): string {
    const name = typeName.startsWith(".") ? typeName.slice(1) : typeName;
    return this.pkg && name.startsWith(`${this.pkg}.`) ? name.slice(this.pkg.length + 1) : name;
  }
}

function fieldType(p: Printer, f: FieldDescriptorProto, maps: Map<string, DescriptorProto>): string {
  if (f.type === FieldDescriptorProto_Type.MESSAGE || f.type === FieldDescriptorProto_Type.ENUM || f.type === FieldDescriptorProto_Type.GROUP) {
    const entry = maps.get(f.typeName.replace(/^\./, ""));
    if (entry) {
      const [k, v] = [entry.field[0]!, entry.field[1]!];
      return `map<${fieldType(p, k, maps)}, ${fieldType(p, v, maps)}>`;
    }
    return p.typeRef(f.typeName);
  }
  return SCALARS[f.type] ?? `type${f.type}`;
}

function fieldLine(p: Printer, f: FieldDescriptorProto, syntax: string, maps: Map<string, DescriptorProto>, inOneof: boolean): string {
  const type = fieldType(p, f, maps);
  let label = "";
  if (!type.startsWith("map<") && !inOneof) {
    if (f.label === FieldDescriptorProto_Label.REPEATED) label = "repeated ";
    else if (f.label === FieldDescriptorProto_Label.REQUIRED) label = "required ";
    else if (f.proto3Optional || syntax === "proto2") label = "optional ";
  }
  const opts: string[] = [];
  if (f.options?.deprecated) opts.push("deprecated = true");
  if (f.jsonName && f.jsonName !== defaultJsonName(f.name)) opts.push(`json_name = "${f.jsonName}"`);
  if (f.defaultValue) opts.push(`default = ${f.type === FieldDescriptorProto_Type.STRING ? JSON.stringify(f.defaultValue) : f.defaultValue}`);
  return `${label}${type} ${f.name} = ${f.number}${opts.length ? ` [${opts.join(", ")}]` : ""};`;
}

function printEnum(p: Printer, e: EnumDescriptorProto, scope: string): void {
  const full = `${scope}.${e.name}`;
  p.open(`enum ${e.name}`, full);
  for (const v of e.value) p.line(`${v.name} = ${v.number}${v.options?.deprecated ? " [deprecated = true]" : ""};`, `${full}.${v.name}`);
  if (e.reservedRange.length) p.line(`reserved ${ranges(e.reservedRange, false)};`, `${full}#reserved`);
  if (e.reservedName.length) p.line(`reserved ${e.reservedName.map((n) => JSON.stringify(n)).join(", ")};`, `${full}#reserved`);
  p.close();
}

function printMessage(p: Printer, m: DescriptorProto, scope: string, syntax: string, maps: Map<string, DescriptorProto>): void {
  const full = `${scope}.${m.name}`;
  p.open(`message ${m.name}`, full);
  const oneofOpen = new Set<number>();
  // an unset proto2 optional reads as its default (0), so presence is asked explicitly
  const realOneof = (f: FieldDescriptorProto) => isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional;
  for (let i = 0; i < m.field.length; i++) {
    const f = m.field[i]!;
    if (realOneof(f)) {
      const idx = f.oneofIndex!;
      if (oneofOpen.has(idx)) continue;
      oneofOpen.add(idx);
      const name = m.oneofDecl[idx]?.name ?? `oneof${idx}`;
      p.open(`oneof ${name}`, `${full}.${name}`);
      for (const g of m.field.filter((x) => realOneof(x) && x.oneofIndex === idx)) p.line(fieldLine(p, g, syntax, maps, true), `${full}.${g.name}`);
      p.close();
      continue;
    }
    p.line(fieldLine(p, f, syntax, maps, false), `${full}.${f.name}`);
  }
  if (m.reservedRange.length) p.line(`reserved ${ranges(m.reservedRange, true)};`, `${full}#reserved`);
  if (m.reservedName.length) p.line(`reserved ${m.reservedName.map((n) => JSON.stringify(n)).join(", ")};`, `${full}#reserved`);
  for (const n of m.nestedType) if (!n.options?.mapEntry) printMessage(p, n, full, syntax, maps);
  for (const e of m.enumType) printEnum(p, e, full);
  p.close();
}

function printService(p: Printer, s: ServiceDescriptorProto, scope: string): void {
  const full = `${scope}.${s.name}`;
  p.open(`service ${s.name}`, full);
  for (const r of s.method) {
    const i = `${r.clientStreaming ? "stream " : ""}${p.typeRef(r.inputType)}`;
    const o = `${r.serverStreaming ? "stream " : ""}${p.typeRef(r.outputType)}`;
    p.line(`rpc ${r.name}(${i}) returns (${o});`, `${full}.${r.name}`);
  }
  p.close();
}

function collectMaps(f: FileDescriptorProto): Map<string, DescriptorProto> {
  const out = new Map<string, DescriptorProto>();
  const walk = (ms: readonly DescriptorProto[], scope: string) => {
    for (const m of ms) {
      const full = `${scope}.${m.name}`;
      if (m.options?.mapEntry) out.set(full.replace(/^\./, ""), m);
      walk(m.nestedType, full);
    }
  };
  walk(f.messageType, f.package ? `.${f.package}` : "");
  return out;
}

/**
 * Renders a schema's own files as .proto text, one after the other, each
 * line tagged with the full name of the element it declares (a message, a
 * field, an enum value, a reserved list as `Message#reserved`), so that
 * compatibility violations, which name elements, can be put on lines. The
 * well-known types and Chronicle's options file are left out (they are the
 * same in every schema), custom options are not printed, and the text is
 * rebuilt from the descriptor: comments and formatting of the original
 * source are not kept (the registry stores descriptors, not source).
 */
export function renderProto(fds: FileDescriptorSet): RenderedLine[] {
  const out: RenderedLine[] = [];
  for (const f of fds.file) {
    if (isLibraryFile(f.name)) continue;
    const p = new Printer(f.package);
    if (out.length) p.line("");
    p.line(`// ${f.name}`);
    if (f.syntax === "editions") p.line(`edition = "${f.edition}";`);
    else p.line(`syntax = "${f.syntax || "proto2"}";`);
    if (f.package) p.line(`package ${f.package};`, f.package);
    if (f.dependency.length) {
      p.line("");
      for (const d of f.dependency) p.line(`import "${d}";`);
    }
    const scope = f.package ?? "";
    const maps = collectMaps(f);
    const syntax = f.syntax || "proto2";
    for (const m of f.messageType) {
      p.line("");
      printMessage(p, m, scope, syntax, maps);
    }
    for (const e of f.enumType) {
      p.line("");
      printEnum(p, e, scope);
    }
    for (const s of f.service) {
      p.line("");
      printService(p, s, scope);
    }
    out.push(...p.lines);
  }
  return out.map((l) => ({ text: l.text, element: l.element.replace(/^\./, "") }));
}
