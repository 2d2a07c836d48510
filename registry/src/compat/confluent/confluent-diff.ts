import { isFieldSet } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";

/**
 * The kinds of difference Confluent's Protobuf compatibility check tells
 * apart between two versions of a schema file, by the names Confluent's
 * registry gives them.
 */
export type ConfluentDifference =
  | "PACKAGE_CHANGED"
  | "MESSAGE_ADDED"
  | "MESSAGE_REMOVED"
  | "MESSAGE_MOVED"
  | "ENUM_ADDED"
  | "ENUM_REMOVED"
  | "FIELD_ADDED"
  | "FIELD_REMOVED"
  | "FIELD_NAME_CHANGED"
  | "FIELD_KIND_CHANGED"
  | "FIELD_SCALAR_KIND_CHANGED"
  | "FIELD_NAMED_TYPE_CHANGED"
  | "FIELD_NUMERIC_LABEL_CHANGED"
  | "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
  | "REQUIRED_FIELD_ADDED"
  | "REQUIRED_FIELD_REMOVED"
  | "ONEOF_ADDED"
  | "ONEOF_REMOVED"
  | "ONEOF_FIELD_ADDED"
  | "ONEOF_FIELD_REMOVED"
  | "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
  | "FIELD_MOVED_TO_EXISTING_ONEOF";

/**
 * The differences Confluent's check accepts; every other one makes the
 * newer file incompatible. Enum changes are all accepted (enum values are
 * numbers on the wire, and unknown ones are kept), as are field renames.
 */
export const ACCEPTED_DIFFERENCES: ReadonlySet<ConfluentDifference> = new Set([
  "MESSAGE_ADDED",
  "MESSAGE_MOVED",
  "ENUM_ADDED",
  "ENUM_REMOVED",
  "FIELD_ADDED",
  "FIELD_REMOVED",
  "FIELD_NAME_CHANGED",
  "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
  "ONEOF_ADDED",
  "ONEOF_REMOVED",
  "ONEOF_FIELD_ADDED",
]);

/** One difference found, with the path of the element (`acme.orders.v1.OrderPlaced.total`). */
export interface FoundDifference {
  kind: ConfluentDifference;
  path: string;
  detail: string;
}

/** A type of a schema, with the package of the file that declares it. */
interface TypeInfo {
  type: DescriptorProto | EnumDescriptorProto;
  isEnum: boolean;
  packageName: string;
}

/** Every message and enum of a set by full name (no leading dot). */
function indexTypes(set: FileDescriptorSet): Map<string, TypeInfo> {
  const types = new Map<string, TypeInfo>();
  const walk = (prefix: string, messages: readonly DescriptorProto[], enums: readonly EnumDescriptorProto[], packageName: string) => {
    for (const e of enums) types.set(`${prefix}${e.name}`, { type: e, isEnum: true, packageName });
    for (const m of messages) {
      types.set(`${prefix}${m.name}`, { type: m, isEnum: false, packageName });
      walk(`${prefix}${m.name}.`, m.nestedType, m.enumType, packageName);
    }
  };
  for (const f of set.file) walk(f.package ? `${f.package}.` : "", f.messageType, f.enumType, f.package);
  return types;
}

/** How Confluent groups scalar types: a change inside a group keeps the wire encoding. */
function scalarGroup(field: FieldDescriptorProto): string {
  switch (field.type) {
    case Type.INT32:
    case Type.INT64:
    case Type.UINT32:
    case Type.UINT64:
    case Type.BOOL:
    case Type.ENUM:
      return "varint";
    case Type.SINT32:
    case Type.SINT64:
      return "zigzag";
    case Type.STRING:
    case Type.BYTES:
      return "length-delimited";
    case Type.FIXED32:
    case Type.SFIXED32:
      return "fixed32";
    case Type.FIXED64:
    case Type.SFIXED64:
      return "fixed64";
    case Type.FLOAT:
      return "float";
    case Type.DOUBLE:
      return "double";
    default:
      return "message";
  }
}

/** A field's label as written in the source, or undefined for a proto3 field without one (Confluent compares written labels only). */
function writtenLabel(field: FieldDescriptorProto, proto3: boolean): Label | undefined {
  if (field.label === Label.REPEATED || field.label === Label.REQUIRED) return field.label;
  if (proto3 && !field.proto3Optional) return undefined;
  return Label.OPTIONAL;
}

function inRealOneof(field: FieldDescriptorProto): boolean {
  return isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) && !field.proto3Optional;
}

/** One side of a comparison: a set with its types, and whether its subject file is proto3. */
interface Side {
  types: Map<string, TypeInfo>;
  proto3: boolean;
}

class Comparison {
  readonly found: FoundDifference[] = [];
  private readonly visited = new Set<string>();

  constructor(
    readonly original: Side,
    readonly update: Side,
  ) {}

  add(kind: ConfluentDifference, path: string, detail: string): void {
    if (!this.found.some((d) => d.kind === kind && d.path === path)) this.found.push({ kind, path, detail });
  }

  /** Compares the messages and enums declared side by side (a file's top level, or a message's nested types). */
  compareTypes(
    scope: string,
    original: { messages: readonly DescriptorProto[]; enums: readonly EnumDescriptorProto[] },
    update: { messages: readonly DescriptorProto[]; enums: readonly EnumDescriptorProto[] },
  ): void {
    const names = new Set([...original.messages.map((m) => m.name), ...update.messages.map((m) => m.name)]);
    for (const name of names) {
      const path = `${scope}${name}`;
      const oi = original.messages.findIndex((m) => m.name === name);
      const ui = update.messages.findIndex((m) => m.name === name);
      const o = original.messages[oi];
      const u = update.messages[ui];
      // map entry types come and go with their map fields
      if (!u && o && !o.options?.mapEntry) this.add("MESSAGE_REMOVED", path, `message ${path} was removed`);
      else if (!o && u && !u.options?.mapEntry) this.add("MESSAGE_ADDED", path, `message ${path} was added`);
      else if (o && u) {
        this.compareMessage(path, path, o, u);
        if (oi !== ui) this.add("MESSAGE_MOVED", path, `message ${path} moved within its scope`);
      }
    }
    const enumNames = new Set([...original.enums.map((e) => e.name), ...update.enums.map((e) => e.name)]);
    for (const name of enumNames) {
      const o = original.enums.some((e) => e.name === name);
      const u = update.enums.some((e) => e.name === name);
      if (o && !u) this.add("ENUM_REMOVED", `${scope}${name}`, `enum ${scope}${name} was removed`);
      else if (!o && u) this.add("ENUM_ADDED", `${scope}${name}`, `enum ${scope}${name} was added`);
    }
  }

  compareMessage(originalName: string, updateName: string, o: DescriptorProto, u: DescriptorProto): void {
    const key = `${originalName}|${updateName}`;
    if (this.visited.has(key)) return;
    this.visited.add(key);
    const topLevel = (m: DescriptorProto) => new Map(m.field.filter((f) => !inRealOneof(f)).map((f) => [f.number, f] as const));
    const oneofOf = (m: DescriptorProto) => new Map(m.field.filter(inRealOneof).map((f) => [f.number, m.oneofDecl[f.oneofIndex!]!.name] as const));
    const originalTop = topLevel(o);
    const updateTop = topLevel(u);
    const originalOneofOf = oneofOf(o);
    const updateOneofOf = oneofOf(u);
    const byNumber = (m: DescriptorProto) => new Map(m.field.map((f) => [f.number, f] as const));
    const originalAll = byNumber(o);
    const updateAll = byNumber(u);

    for (const [i, decl] of u.oneofDecl.entries()) {
      const members = u.field.filter((f) => inRealOneof(f) && f.oneofIndex === i);
      if (members.length === 0) continue; // a synthetic oneof of proto3 optional
      let moved = 0;
      let existing = 0;
      for (const f of members) {
        if (originalTop.delete(f.number)) moved++;
        else if (originalOneofOf.has(f.number)) existing++;
      }
      const path = `${updateName}.${decl.name}`;
      if (moved > 1) this.add("MULTIPLE_FIELDS_MOVED_TO_ONEOF", path, `${moved} fields that were not in a oneof moved into oneof ${path}`);
      else if (moved === 1 && existing > 0) this.add("FIELD_MOVED_TO_EXISTING_ONEOF", path, `a field moved into oneof ${path}, which already had members`);
    }

    const oneofNames = new Set([...originalOneofOf.values(), ...updateOneofOf.values()]);
    for (const name of oneofNames) {
      const path = `${updateName}.${name}`;
      const inOriginal = [...originalOneofOf].filter(([, n]) => n === name).map(([num]) => num);
      const inUpdate = [...updateOneofOf].filter(([, n]) => n === name).map(([num]) => num);
      if (inUpdate.length === 0) this.add("ONEOF_REMOVED", path, `oneof ${path} was removed`);
      else if (inOriginal.length === 0) this.add("ONEOF_ADDED", path, `oneof ${path} was added`);
      else {
        for (const num of new Set([...inOriginal, ...inUpdate])) {
          const fieldPath = `${path}.${num}`;
          if (!inUpdate.includes(num)) {
            // a field that left the oneof but stays in the message was relocated, not removed
            if (!updateAll.has(num)) this.add("ONEOF_FIELD_REMOVED", fieldPath, `field ${num} was removed from oneof ${path}`);
          } else if (!inOriginal.includes(num)) this.add("ONEOF_FIELD_ADDED", fieldPath, `field ${num} was added to oneof ${path}`);
          else this.compareField(fieldPath, originalAll.get(num)!, updateAll.get(num)!);
        }
      }
    }

    for (const num of new Set([...originalTop.keys(), ...updateTop.keys()])) {
      const of = originalTop.get(num);
      const uf = updateTop.get(num);
      const path = `${updateName}.${uf?.name ?? of?.name ?? num}`;
      if (of && !uf) {
        if (of.label === Label.REQUIRED) this.add("REQUIRED_FIELD_REMOVED", path, `required field ${path} (${num}) was removed`);
        else this.add("FIELD_REMOVED", path, `field ${path} (${num}) was removed`);
      } else if (uf && !of) {
        if (uf.label === Label.REQUIRED) this.add("REQUIRED_FIELD_ADDED", path, `required field ${path} (${num}) was added`);
        else this.add("FIELD_ADDED", path, `field ${path} (${num}) was added`);
      } else if (of && uf) this.compareField(path, of, uf);
    }

    // fields whose oneof membership changed are compared by number too
    for (const [num, of] of originalAll) {
      const uf = updateAll.get(num);
      if (!uf) continue;
      const before = originalOneofOf.get(num);
      const after = updateOneofOf.get(num);
      if ((before === undefined && after === undefined) || (before !== undefined && before === after)) continue;
      this.compareField(`${updateName}.${uf.name}`, of, uf);
    }

    this.compareTypes(`${updateName}.`, { messages: o.nestedType, enums: o.enumType }, { messages: u.nestedType, enums: u.enumType });
  }

  private mapEntry(side: Side, field: FieldDescriptorProto): DescriptorProto | undefined {
    if (field.type !== Type.MESSAGE || field.label !== Label.REPEATED) return undefined;
    const info = side.types.get(field.typeName.replace(/^\./, ""));
    return !info?.isEnum && (info?.type as DescriptorProto | undefined)?.options?.mapEntry ? (info!.type as DescriptorProto) : undefined;
  }

  compareField(path: string, o: FieldDescriptorProto, u: FieldDescriptorProto): void {
    if (o.name !== u.name) this.add("FIELD_NAME_CHANGED", path, `field ${o.number} was renamed from ${o.name} to ${u.name}`);
    const oMap = this.mapEntry(this.original, o);
    const uMap = this.mapEntry(this.update, u);
    if (oMap && uMap) {
      for (const n of [1, 2])
        this.compareFieldTypes(
          `${path}.${n === 1 ? "key" : "value"}`,
          oMap.field.find((f) => f.number === n)!,
          uMap.field.find((f) => f.number === n)!,
        );
      return;
    }
    if (oMap || uMap) {
      this.add("FIELD_KIND_CHANGED", path, `field ${path} changed between a map and ${oMap ? "a non-map" : "a map"}`);
      return;
    }
    this.compareFieldTypes(path, o, u);
  }

  private compareFieldTypes(path: string, o: FieldDescriptorProto, u: FieldDescriptorProto): void {
    const kind = (f: FieldDescriptorProto) => (scalarGroup(f) === "message" ? "message" : "scalar");
    if (kind(o) !== kind(u)) {
      this.add("FIELD_KIND_CHANGED", path, `field ${path} changed from a ${kind(o)} to a ${kind(u)}`);
      return;
    }
    if (kind(o) === "scalar") {
      if (scalarGroup(o) !== scalarGroup(u)) {
        this.add("FIELD_SCALAR_KIND_CHANGED", path, `field ${path} changed from ${scalarGroup(o)} to ${scalarGroup(u)} encoding`);
        return;
      }
      const ol = writtenLabel(o, this.original.proto3);
      const ul = writtenLabel(u, this.update.proto3);
      if (ol !== undefined && ul !== undefined && ol !== ul) {
        if (scalarGroup(o) === "length-delimited") this.add("FIELD_STRING_OR_BYTES_LABEL_CHANGED", path, `field ${path} changed its label`);
        else this.add("FIELD_NUMERIC_LABEL_CHANGED", path, `numeric field ${path} changed its label (${Label[ol]} to ${Label[ul]})`);
      }
      return;
    }
    const oName = o.typeName.replace(/^\./, "");
    const uName = u.typeName.replace(/^\./, "");
    const oInfo = this.original.types.get(oName);
    const uInfo = this.update.types.get(uName);
    const local = (name: string, info: TypeInfo | undefined) =>
      info?.packageName && name.startsWith(`${info.packageName}.`) ? name.slice(info.packageName.length + 1) : name;
    if (!oInfo || !uInfo || local(oName, oInfo) !== local(uName, uInfo)) {
      if (oName !== uName) this.add("FIELD_NAMED_TYPE_CHANGED", path, `field ${path} changed its type from ${oName} to ${uName}`);
      return;
    }
    // the same type by local name, wherever it is declared now (another file, another package): compared by content
    const before = this.found.length;
    this.compareMessage(oName, uName, oInfo.type as DescriptorProto, uInfo.type as DescriptorProto);
    if (this.found.slice(before).some((d) => !ACCEPTED_DIFFERENCES.has(d.kind))) {
      this.add("FIELD_NAMED_TYPE_CHANGED", path, `field ${path} has type ${uName}, which is incompatible with ${oName}`);
    }
  }
}

/**
 * The differences between two versions of a schema file, as Confluent's
 * Protobuf check finds them, from `original` to `update`: the file's
 * package, its messages and enums by name (nested ones too), each
 * message's fields by number and oneofs by name, and the message types its
 * fields name, compared by content wherever they are declared. Each set is
 * self-contained; `file` names the file compared in each.
 */
export function confluentDifferences(
  original: FileDescriptorSet,
  originalFile: FileDescriptorProto,
  update: FileDescriptorSet,
  updateFile: FileDescriptorProto,
): FoundDifference[] {
  const c = new Comparison(
    { types: indexTypes(original), proto3: originalFile.syntax === "proto3" },
    { types: indexTypes(update), proto3: updateFile.syntax === "proto3" },
  );
  if (originalFile.package !== updateFile.package) {
    c.add("PACKAGE_CHANGED", updateFile.package, `package changed from ${originalFile.package || "(none)"} to ${updateFile.package || "(none)"}`);
  }
  const prefix = (f: FileDescriptorProto) => (f.package ? `${f.package}.` : "");
  // types are compared by name within the file; the path uses the newer package
  c.compareTypes(
    prefix(updateFile),
    { messages: originalFile.messageType, enums: originalFile.enumType },
    { messages: updateFile.messageType, enums: updateFile.enumType },
  );
  void prefix(originalFile);
  return c.found;
}
