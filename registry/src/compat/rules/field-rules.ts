import { FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { FieldPath } from "../descriptor-paths.js";
import { fieldCardinality, fieldKind, type Cardinality, type FieldKind, type FieldNode } from "../model.js";
import type { SourceLocation } from "../types.js";
import { forEachFieldPair } from "./pairs.js";
import { at, describeField, fieldOwner, oldNew, WIRE_AND_WIRE_JSON, WIRE_JSON_ONLY, WIRE_ONLY, type Rule, type RuleContext } from "./rule.js";

// Rules on a field present in both versions: its type, cardinality, oneof,
// name and JSON name.

/** Kinds that share a number decode each other's binary encoding (Buf's WIRE groups). */
const wireGroup: Record<FieldKind, number> = {
  int32: 1,
  int64: 1,
  uint32: 1,
  uint64: 1,
  bool: 1,
  sint32: 2,
  sint64: 2,
  string: 3,
  bytes: 4,
  fixed32: 5,
  sfixed32: 5,
  fixed64: 6,
  sfixed64: 6,
  double: 7,
  float: 8,
  group: 9,
  message: 10,
  enum: 11,
};

/** Kinds that share a number decode each other's binary and JSON encodings (Buf's WIRE_JSON groups). */
const wireJsonGroup: Record<FieldKind, number> = {
  int32: 1,
  uint32: 1,
  int64: 2,
  uint64: 2,
  fixed32: 3,
  sfixed32: 3,
  fixed64: 4,
  sfixed64: 4,
  bool: 5,
  sint32: 6,
  sint64: 7,
  string: 8,
  bytes: 9,
  double: 10,
  float: 11,
  group: 12,
  message: 13,
  enum: 14,
};

/** Cardinalities that share a number are wire compatible. */
const wireCardinality: Record<Cardinality, number> = {
  "optional with explicit presence": 1,
  "optional with implicit presence": 1,
  required: 2,
  repeated: 3,
  map: 3,
};
/** As {@link wireCardinality}, but a map and a repeated field differ in JSON. */
const wireJsonCardinality: Record<Cardinality, number> = { ...wireCardinality, map: 4 };

function fieldTypeLocation(field: FieldNode, kind: FieldKind | undefined): SourceLocation | undefined {
  const named = kind === "message" || kind === "enum" || kind === "group";
  return at(field.file, [...field.path, named ? FieldPath.typeName : FieldPath.type]);
}

function prettyKind(field: FieldNode, kind: FieldKind): string {
  return kind === "group" && field.file.syntax !== "proto2" ? "message (delimited encoding)" : kind;
}

/** Reports a hit on a field pair: owned by the current field's message, located by `where` on each side. */
function reportField(
  ctx: RuleContext,
  rule: string,
  message: string,
  path: string,
  prev: FieldNode,
  cur: FieldNode,
  where: (field: FieldNode) => SourceLocation | undefined,
): void {
  ctx.emit({ rule, message, path, owner: fieldOwner(cur), file: cur.file.path, location: where(cur), againstLocation: where(prev) });
}

function checkFieldType(ctx: RuleContext, rule: string, json: boolean, prev: FieldNode, cur: FieldNode): void {
  const prevKind = fieldKind(prev);
  const curKind = fieldKind(cur);
  if (prevKind === undefined || curKind === undefined) return;
  const groups = json ? wireJsonGroup : wireGroup;
  if (groups[prevKind] !== groups[curKind]) {
    if (!json && prevKind === "string" && curKind === "bytes") return; // string may become bytes, not back
    const [older, newer] = oldNew(ctx, prev, cur);
    const [olderKind, newerKind] = oldNew(ctx, prevKind, curKind);
    let why = json
      ? " Old and new readers would decode the binary or JSON form of this field differently."
      : " Old and new readers would decode this field's bytes differently.";
    if (!json && prevKind === "bytes" && curKind === "string") why += " Bytes may hold data that is not valid UTF-8, which a string field rejects.";
    const message = `${describeField(newer)} changed type from "${prettyKind(older, olderKind)}" to "${prettyKind(newer, newerKind)}".${why}`;
    reportField(ctx, rule, message, newer.fullName, prev, cur, (f) => fieldTypeLocation(f, fieldKind(f)));
    return;
  }
  const sameTypeName = prev.typeName === cur.typeName;
  const typeKind = json ? curKind : namedKindOf(cur.proto.type);
  if (typeKind === "enum") {
    if (!sameTypeName && !enumCompatible(ctx, prev, cur)) emitTypeName(ctx, rule, prev, cur);
  } else if ((typeKind === "message" || typeKind === "group") && !sameTypeName) {
    emitTypeName(ctx, rule, prev, cur);
  }
}

/** The kind of a field type that names another type (WIRE reads the declared type, not the resolved encoding). */
function namedKindOf(type: FieldDescriptorProto_Type): "enum" | "message" | "group" | undefined {
  switch (type) {
    case FieldDescriptorProto_Type.ENUM:
      return "enum";
    case FieldDescriptorProto_Type.MESSAGE:
      return "message";
    case FieldDescriptorProto_Type.GROUP:
      return "group";
    default:
      return undefined;
  }
}

function emitTypeName(ctx: RuleContext, rule: string, prev: FieldNode, cur: FieldNode): void {
  const [older, newer] = oldNew(ctx, prev, cur);
  reportField(ctx, rule, `${describeField(newer)} changed type from "${older.typeName}" to "${newer.typeName}".`, newer.fullName, prev, cur, (f) =>
    at(f.file, [...f.path, FieldPath.typeName]),
  );
}

/** An enum field may switch to an enum with the same short name whose values include the old ones. */
function enumCompatible(ctx: RuleContext, prev: FieldNode, cur: FieldNode): boolean {
  const prevEnum = ctx.prev.enums.get(prev.typeName);
  const curEnum = ctx.cur.enums.get(cur.typeName);
  if (prevEnum === undefined || curEnum === undefined || prevEnum.name !== curEnum.name) return false;
  for (const v of prevEnum.values) {
    if (!(curEnum.byNumber.get(v.number) ?? []).some((c) => c.name === v.name)) return false;
  }
  return true;
}

function checkCardinality(ctx: RuleContext, rule: string, groups: Record<Cardinality, number>, prev: FieldNode, cur: FieldNode): void {
  if (prev.message?.isMapEntry === true && cur.message?.isMapEntry === true) return;
  const prevCardinality = fieldCardinality(prev, ctx.prev);
  const curCardinality = fieldCardinality(cur, ctx.cur);
  if (groups[prevCardinality] === groups[curCardinality]) return;
  const [older, newer] = oldNew(ctx, prevCardinality, curCardinality);
  const newerField = ctx.swapped ? prev : cur;
  reportField(
    ctx,
    rule,
    `${describeField(newerField)} changed cardinality from "${older}" to "${newer}"; readers of one version cannot decode what the other writes.`,
    newerField.fullName,
    prev,
    cur,
    (f) => at(f.file, f.path),
  );
}

function checkOneof(ctx: RuleContext, prev: FieldNode, cur: FieldNode): void {
  if (prev.extendee !== undefined || prev.oneof === cur.oneof) return;
  const [older, newer] = oldNew(ctx, prev, cur);
  const what =
    older.oneof !== undefined && newer.oneof !== undefined
      ? `moved from oneof "${older.oneof}" to oneof "${newer.oneof}"`
      : newer.oneof !== undefined
        ? `moved into oneof "${newer.oneof}"`
        : `moved out of oneof "${older.oneof ?? ""}"`;
  reportField(
    ctx,
    "FIELD_SAME_ONEOF",
    `${describeField(newer)} ${what}; setting it can now clear other fields, or no longer does.`,
    newer.fullName,
    prev,
    cur,
    (f) => at(f.file, f.path),
  );
}

function checkName(ctx: RuleContext, prev: FieldNode, cur: FieldNode): void {
  const prevName = prev.extendee !== undefined ? prev.fullName : prev.name;
  const curName = cur.extendee !== undefined ? cur.fullName : cur.name;
  if (prevName === curName) return;
  const [older, newer] = oldNew(ctx, prevName, curName);
  const newerField = ctx.swapped ? prev : cur;
  reportField(
    ctx,
    "FIELD_SAME_NAME",
    `${describeField(newerField, false)} changed name from "${older}" to "${newer}"; JSON and text data use the name.`,
    newerField.fullName,
    prev,
    cur,
    (f) => at(f.file, [...f.path, FieldPath.name]),
  );
}

function checkJsonName(ctx: RuleContext, prev: FieldNode, cur: FieldNode): void {
  if (prev.extendee !== undefined || prev.jsonName === cur.jsonName) return;
  const [older, newer] = oldNew(ctx, prev.jsonName, cur.jsonName);
  const newerField = ctx.swapped ? prev : cur;
  reportField(
    ctx,
    "FIELD_SAME_JSON_NAME",
    `${describeField(newerField)} changed its JSON name from "${older}" to "${newer}"; JSON data written with one is not read by the other.`,
    newerField.fullName,
    prev,
    cur,
    (f) => at(f.file, [...f.path, FieldPath.jsonName], f.path),
  );
}

/** Rules on fields (and extensions) present in both versions. */
export const fieldRules: readonly Rule[] = [
  {
    id: "FIELD_WIRE_COMPATIBLE_TYPE",
    categories: WIRE_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Fields keep wire-compatible types.",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkFieldType(ctx, "FIELD_WIRE_COMPATIBLE_TYPE", false, p, c)),
  },
  {
    id: "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Fields keep types that are compatible in both the binary and the JSON encoding.",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkFieldType(ctx, "FIELD_WIRE_JSON_COMPATIBLE_TYPE", true, p, c)),
  },
  {
    id: "FIELD_WIRE_COMPATIBLE_CARDINALITY",
    categories: WIRE_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep wire-compatible cardinalities.",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkCardinality(ctx, "FIELD_WIRE_COMPATIBLE_CARDINALITY", wireCardinality, p, c)),
  },
  {
    id: "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep cardinalities compatible in binary and JSON (repeated and map differ in JSON).",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkCardinality(ctx, "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", wireJsonCardinality, p, c)),
  },
  {
    id: "FIELD_SAME_ONEOF",
    categories: WIRE_AND_WIRE_JSON,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields stay in (or out of) the same oneof.",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkOneof(ctx, p, c)),
  },
  {
    id: "FIELD_SAME_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep their names (JSON uses them).",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkName(ctx, p, c)),
  },
  {
    id: "FIELD_SAME_JSON_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep their JSON names.",
    check: (ctx) => forEachFieldPair(ctx, (p, c) => checkJsonName(ctx, p, c)),
  },
];
