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

/** Field or value numbers of either side, ascending. */
function allNumbers(before: ReadonlyMap<number, unknown>, after: ReadonlyMap<number, unknown>): number[] {
  return [...new Set([...before.keys(), ...after.keys()])].sort((x, y) => x - y);
}

/** Names of either side, sorted. */
function allNames(before: ReadonlyMap<string, unknown>, after: ReadonlyMap<string, unknown>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].sort();
}

/** Fields added, removed or changed (by number), and reservations changed; every field is added when the message is new. */
function diffFields(name: string, before: DescMessage | undefined, after: DescMessage): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const fieldsBefore = new Map((before?.fields ?? []).map((f) => [f.number, f]));
  const fieldsAfter = new Map(after.fields.map((f) => [f.number, f]));
  for (const number of allNumbers(fieldsBefore, fieldsAfter)) {
    const old = fieldsBefore.get(number);
    const now = fieldsAfter.get(number);
    if (old && !now) changes.push({ kind: "removed", element: "field", path: `${name}.${old.name}`, number, before: fieldText(old) });
    else if (!old && now) changes.push({ kind: "added", element: "field", path: `${name}.${now.name}`, number, after: fieldText(now) });
    else if (old && now && fieldText(old) !== fieldText(now)) {
      changes.push({ kind: "changed", element: "field", path: `${name}.${now.name}`, number, before: fieldText(old), after: fieldText(now) });
    }
  }
  if (before && reservedText(before) !== reservedText(after)) {
    changes.push({ kind: "changed", element: "reserved", path: name, before: reservedText(before) || "(none)", after: reservedText(after) || "(none)" });
  }
  return changes;
}

/** Messages added or removed, and the fields of those on both sides. */
function diffMessages(before: ReadonlyMap<string, DescMessage>, after: ReadonlyMap<string, DescMessage>): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const name of allNames(before, after)) {
    const old = before.get(name);
    const now = after.get(name);
    if (old && now) changes.push(...diffFields(name, old, now));
    else if (now) changes.push({ kind: "added", element: "message", path: name }, ...diffFields(name, undefined, now));
    else changes.push({ kind: "removed", element: "message", path: name });
  }
  return changes;
}

/** Enums added or removed, and the values (by number) of those on both sides. */
function diffEnums(before: ReadonlyMap<string, DescEnum>, after: ReadonlyMap<string, DescEnum>): SchemaChange[] {
  const changes: SchemaChange[] = [];
  for (const name of allNames(before, after)) {
    const old = before.get(name);
    const now = after.get(name);
    if (!old || !now) {
      changes.push({ kind: old ? "removed" : "added", element: "enum", path: name });
      continue;
    }
    const valuesBefore = new Map(old.values.map((v) => [v.number, v.name]));
    const valuesAfter = new Map(now.values.map((v) => [v.number, v.name]));
    for (const number of allNumbers(valuesBefore, valuesAfter)) {
      const was = valuesBefore.get(number);
      const is = valuesAfter.get(number);
      if (was === is) continue;
      if (was !== undefined && is !== undefined)
        changes.push({ kind: "changed", element: "value", path: `${name}.${is}`, number, before: `${was} = ${number}`, after: `${is} = ${number}` });
      else if (was !== undefined) changes.push({ kind: "removed", element: "value", path: `${name}.${was}`, number, before: `${was} = ${number}` });
      else changes.push({ kind: "added", element: "value", path: `${name}.${is}`, number, after: `${is} = ${number}` });
    }
  }
  return changes;
}

/**
 * The differences between two schemas of a subject (the message and every
 * message and enum it reaches): messages and enums added or removed; fields
 * and enum values added, removed or changed (name, type, label, json_name,
 * oneof), by number; reserved ranges and names changed. Messages first, by
 * name, then enums; inside each, by number.
 */
export function diffSubject(before: FileDescriptorSet, after: FileDescriptorSet, subject: string): SchemaChange[] {
  const reachedBefore = reach(createFileRegistry(before), subject);
  const reachedAfter = reach(createFileRegistry(after), subject);
  return [...diffMessages(reachedBefore.messages, reachedAfter.messages), ...diffEnums(reachedBefore.enums, reachedAfter.enums)];
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
