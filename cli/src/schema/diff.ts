import { ScalarType, createFileRegistry, type DescEnum, type DescField, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";

/** One difference between two versions of a subject. */
export interface SchemaChange {
  kind: "added" | "removed" | "changed";
  element: "message" | "enum" | "field" | "value" | "reserved";
  /** Full path: `acme.v1.OrderPlaced.total`, `acme.v1.Status.STATUS_DONE`. */
  path: string;
  /** Field or enum value number. */
  number?: number;
  /** What it was, in proto words (`string total = 2`). */
  before?: string;
  /** What it is now. */
  after?: string;
}

function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

/** The type of a field as written in a .proto (`repeated string`, `map<string, int64>`, `optional acme.v1.Money`). */
export function fieldType(f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
      return `${f.proto.proto3Optional ? "optional " : ""}${scalarName(f.scalar)}`;
    case "enum":
      return `${f.proto.proto3Optional ? "optional " : ""}${f.enum.typeName}`;
    case "message":
      return f.message.typeName;
    case "list":
      return `repeated ${f.listKind === "scalar" ? scalarName(f.scalar) : f.listKind === "enum" ? f.enum.typeName : f.message.typeName}`;
    case "map": {
      const value = f.mapKind === "scalar" ? scalarName(f.scalar) : f.mapKind === "enum" ? f.enum.typeName : f.message.typeName;
      return `map<${scalarName(f.mapKey)}, ${value}>`;
    }
  }
}

function fieldText(f: DescField): string {
  const json = f.proto.jsonName && f.proto.jsonName !== f.jsonName ? ` [json_name = "${f.proto.jsonName}"]` : "";
  return `${fieldType(f)} ${f.name} = ${f.number}${json}${f.oneof ? ` (oneof ${f.oneof.name})` : ""}`;
}

function reservedText(m: DescMessage): string {
  const ranges = m.proto.reservedRange.map((r) => (r.end - r.start === 1 ? `${r.start}` : `${r.start} to ${r.end - 1}`));
  return [...ranges, ...m.proto.reservedName.map((n) => JSON.stringify(n))].join(", ");
}

/** Every message and enum the subject reaches (field types, nested types), by full name. */
function reach(registry: FileRegistry, subject: string): { messages: Map<string, DescMessage>; enums: Map<string, DescEnum> } {
  const messages = new Map<string, DescMessage>();
  const enums = new Map<string, DescEnum>();
  const visit = (m: DescMessage | undefined) => {
    if (!m || messages.has(m.typeName)) return;
    // map entries are part of their field's type
    if (!m.proto.options?.mapEntry) messages.set(m.typeName, m);
    for (const f of m.fields) {
      if (f.enum) enums.set(f.enum.typeName, f.enum);
      if (f.message) visit(f.message);
    }
    for (const n of m.nestedMessages) visit(n);
    for (const e of m.nestedEnums) enums.set(e.typeName, e);
  };
  visit(registry.getMessage(subject));
  return { messages, enums };
}

/**
 * The differences between two schemas of a subject (the message and every
 * message and enum it reaches): messages and enums added or removed; fields
 * and enum values added, removed or changed (name, type, label, json_name,
 * oneof), by number; reserved ranges and names changed. Messages first, by
 * name, then enums; inside each, by number.
 */
export function diffSubject(before: FileDescriptorSet, after: FileDescriptorSet, subject: string): SchemaChange[] {
  const a = reach(createFileRegistry(before), subject);
  const b = reach(createFileRegistry(after), subject);
  const changes: SchemaChange[] = [];
  for (const name of [...new Set([...a.messages.keys(), ...b.messages.keys()])].sort()) {
    const ma = a.messages.get(name);
    const mb = b.messages.get(name);
    if (!ma || !mb) {
      changes.push({ kind: ma ? "removed" : "added", element: "message", path: name });
      if (ma) continue;
    }
    const fa = new Map((ma?.fields ?? []).map((f) => [f.number, f]));
    const fb = new Map((mb?.fields ?? []).map((f) => [f.number, f]));
    for (const number of [...new Set([...fa.keys(), ...fb.keys()])].sort((x, y) => x - y)) {
      const x = fa.get(number);
      const y = fb.get(number);
      if (x && !y) changes.push({ kind: "removed", element: "field", path: `${name}.${x.name}`, number, before: fieldText(x) });
      else if (!x && y) changes.push({ kind: "added", element: "field", path: `${name}.${y.name}`, number, after: fieldText(y) });
      else if (x && y && fieldText(x) !== fieldText(y)) {
        changes.push({ kind: "changed", element: "field", path: `${name}.${y.name}`, number, before: fieldText(x), after: fieldText(y) });
      }
    }
    if (ma && mb && reservedText(ma) !== reservedText(mb)) {
      changes.push({ kind: "changed", element: "reserved", path: name, before: reservedText(ma) || "(none)", after: reservedText(mb) || "(none)" });
    }
  }
  for (const name of [...new Set([...a.enums.keys(), ...b.enums.keys()])].sort()) {
    const ea = a.enums.get(name);
    const eb = b.enums.get(name);
    if (!ea || !eb) {
      changes.push({ kind: ea ? "removed" : "added", element: "enum", path: name });
      continue;
    }
    const va = new Map(ea.values.map((v) => [v.number, v.name]));
    const vb = new Map(eb.values.map((v) => [v.number, v.name]));
    for (const number of [...new Set([...va.keys(), ...vb.keys()])].sort((x, y) => x - y)) {
      const x = va.get(number);
      const y = vb.get(number);
      if (x === y) continue;
      if (x !== undefined && y !== undefined)
        changes.push({ kind: "changed", element: "value", path: `${name}.${y}`, number, before: `${x} = ${number}`, after: `${y} = ${number}` });
      else if (x !== undefined) changes.push({ kind: "removed", element: "value", path: `${name}.${x}`, number, before: `${x} = ${number}` });
      else changes.push({ kind: "added", element: "value", path: `${name}.${y}`, number, after: `${y} = ${number}` });
    }
  }
  return changes;
}

/** The changes as lines for people: `+ field acme.v1.OrderPlaced.note: string note = 3`. */
export function formatChanges(changes: readonly SchemaChange[]): string[] {
  if (changes.length === 0) return ["  no changes"];
  return changes.map((c) => {
    const mark = c.kind === "added" ? "+" : c.kind === "removed" ? "-" : "~";
    const detail = c.kind === "changed" ? `${c.before}  ->  ${c.after}` : (c.after ?? c.before ?? c.kind);
    return `  ${mark} ${c.element.padEnd(8)} ${c.path}: ${detail}`;
  });
}
