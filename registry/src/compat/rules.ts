import {
  fieldCardinality,
  fieldKind,
  isRequired,
  jsonFormat,
  locate,
  trimDot,
  type Cardinality,
  type EnumNode,
  type FieldKind,
  type FieldNode,
  type FileNode,
  type MessageNode,
  type MethodNode,
  type SchemaIndex,
} from "./model.js";
import type { RuleCategory, SourceLocation } from "./types.js";

/**
 * How a rule is applied across versions (docs/schema-evolution.md has the
 * reasoning for each rule):
 *
 * - `both-ways`: the rule compares an element present in both versions. It is
 *   checked old -> new for BACKWARD (new readers, old data) and new -> old for
 *   FORWARD (old readers, new data); FULL does both. Swapping is safe here
 *   because the rule never looks at elements present on one side only.
 * - `history`: the rule is about what the older version had and the newer one
 *   dropped (deleted fields and values, removed reservations). It is checked
 *   old -> new only, in every mode but NONE: swapping it would turn every
 *   added field into a "deletion".
 */
export type RuleDirection = "both-ways" | "history";

/** A violation as a rule reports it, before the caller picks a location. */
export interface RuleHit {
  rule: string;
  message: string;
  path: string;
  /** Location in the `current` side (Buf's reporting location). */
  location: SourceLocation | undefined;
  /** Location of the same element in the `previous` side. */
  againstLocation: SourceLocation | undefined;
  /** File of the `current` side the hit belongs to. */
  file: string | undefined;
}

/** Which elements a subject-scoped check looks at. */
export interface Scope {
  readonly messages: ReadonlySet<string>;
  readonly enums: ReadonlySet<string>;
}

export interface RuleContext {
  readonly prev: SchemaIndex;
  readonly cur: SchemaIndex;
  /** True when `prev` is the newer schema (FORWARD direction). Only changes wording. */
  readonly swapped: boolean;
  readonly scope: Scope | undefined;
  /** Paired elements of `prev` and `cur`. */
  readonly pairs: Pairs;
  emit(hit: RuleHit): void;
}

/** One Buf breaking rule. */
export interface Rule {
  readonly id: string;
  readonly categories: readonly RuleCategory[];
  readonly direction: RuleDirection;
  /** A symmetric rule gives the same verdict both ways, so FULL runs it once. */
  readonly symmetric?: boolean;
  /** Whether the rule applies to a subject-scoped check (files and RPCs do not). */
  readonly subjectScoped: boolean;
  readonly purpose: string;
  check(ctx: RuleContext): void;
}

// --- pairing, as Buf pairs elements ---------------------------------------

/** Elements paired the way Buf pairs them, computed once per version pair. */
export interface Pairs {
  readonly messages: readonly [MessageNode, MessageNode][];
  readonly enums: readonly [EnumNode, EnumNode][];
  readonly fields: readonly [FieldNode, FieldNode][];
}

/**
 * Pair messages and enums by full name, fields by number within paired
 * messages, extensions by (extendee, number); within `scope` when given
 * (extensions are then left out).
 */
export function pairElements(prev: SchemaIndex, cur: SchemaIndex, scope: Scope | undefined): Pairs {
  const messages: [MessageNode, MessageNode][] = [];
  const enums: [EnumNode, EnumNode][] = [];
  const fields: [FieldNode, FieldNode][] = [];
  const messageNames = scope === undefined ? prev.messages.keys() : scope.messages.values();
  for (const name of messageNames) {
    const p = prev.messages.get(name);
    const c = cur.messages.get(name);
    if (p === undefined || c === undefined) continue;
    messages.push([p, c]);
    for (const [number, pf] of p.byNumber) {
      const cf = c.byNumber.get(number);
      if (cf !== undefined) fields.push([pf, cf]);
    }
  }
  const enumNames = scope === undefined ? prev.enums.keys() : scope.enums.values();
  for (const name of enumNames) {
    const p = prev.enums.get(name);
    const c = cur.enums.get(name);
    if (p !== undefined && c !== undefined) enums.push([p, c]);
  }
  if (scope === undefined) {
    for (const [extendee, prevByNumber] of prev.extensions) {
      const curByNumber = cur.extensions.get(extendee);
      if (curByNumber === undefined) continue;
      for (const [number, pf] of prevByNumber) {
        const cf = curByNumber.get(number);
        if (cf !== undefined) fields.push([pf, cf]);
      }
    }
  }
  return { messages, enums, fields };
}

/** The same pairs with the roles swapped. */
export function swapPairs(pairs: Pairs): Pairs {
  return {
    messages: pairs.messages.map(([a, b]) => [b, a]),
    enums: pairs.enums.map(([a, b]) => [b, a]),
    fields: pairs.fields.map(([a, b]) => [b, a]),
  };
}

function forEachMessagePair(ctx: RuleContext, fn: (prev: MessageNode, cur: MessageNode) => void): void {
  for (const [p, c] of ctx.pairs.messages) fn(p, c);
}

function forEachEnumPair(ctx: RuleContext, fn: (prev: EnumNode, cur: EnumNode) => void): void {
  for (const [p, c] of ctx.pairs.enums) fn(p, c);
}

function forEachFieldPair(ctx: RuleContext, fn: (prev: FieldNode, cur: FieldNode) => void): void {
  for (const [p, c] of ctx.pairs.fields) fn(p, c);
}

// --- reporting helpers -----------------------------------------------------

function hit(rule: string, message: string, path: string, file: FileNode, loc: SourceLocation | undefined, against: SourceLocation | undefined): RuleHit {
  return { rule, message, path, location: loc, againstLocation: against, file: file.path };
}

function at(file: FileNode, ...paths: (readonly number[])[]): SourceLocation | undefined {
  for (const path of paths) {
    const loc = locate(file, path);
    if (loc !== undefined) return loc;
  }
  return undefined;
}

/** [older, newer] of a pair, whatever roles they play in the check. */
function oldNew<T>(ctx: RuleContext, prev: T, cur: T): [T, T] {
  return ctx.swapped ? [cur, prev] : [prev, cur];
}

function describeField(field: FieldNode, withName = true): string {
  const kind = field.extendee !== undefined ? "Extension" : "Field";
  const owner = field.extendee ?? field.message?.fullName ?? "";
  const name = withName ? ` "${field.extendee !== undefined ? field.fullName : field.name}"` : "";
  return `${kind}${name} (number ${field.number}) of ${field.extendee !== undefined ? "extendee" : "message"} "${owner}"`;
}

function fieldTypeLocation(field: FieldNode, kind: FieldKind | undefined): SourceLocation | undefined {
  return kind === "message" || kind === "enum" || kind === "group" ? at(field.file, [...field.path, 6]) : at(field.file, [...field.path, 5]);
}

function prettyKind(field: FieldNode, kind: FieldKind): string {
  return kind === "group" && field.file.syntax !== "proto2" ? "message (delimited encoding)" : kind;
}

// --- type rules ---------------------------------------------------------------

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

function checkFieldType(ctx: RuleContext, rule: string, json: boolean, prev: FieldNode, cur: FieldNode): void {
  const pk = fieldKind(prev);
  const ck = fieldKind(cur);
  if (pk === undefined || ck === undefined) return;
  const groups = json ? wireJsonGroup : wireGroup;
  const [o, n] = oldNew(ctx, prev, cur);
  if (groups[pk] !== groups[ck]) {
    if (!json && pk === "string" && ck === "bytes") return; // string may become bytes, not back
    const [ok, nk] = oldNew(ctx, pk, ck);
    let extra = json
      ? " Old and new readers would decode the binary or JSON form of this field differently."
      : " Old and new readers would decode this field's bytes differently.";
    if (!json && pk === "bytes" && ck === "string") extra += " Bytes may hold data that is not valid UTF-8, which a string field rejects.";
    ctx.emit(
      hit(
        rule,
        `${describeField(n)} changed type from "${prettyKind(o, ok)}" to "${prettyKind(n, nk)}".${extra}`,
        n.fullName,
        cur.file,
        fieldTypeLocation(cur, ck),
        fieldTypeLocation(prev, pk),
      ),
    );
    return;
  }
  const sameName = prev.typeName === cur.typeName;
  const typeKind = json ? ck : kindOfType(cur.proto.type);
  if (typeKind === "enum") {
    if (!sameName && !enumCompatible(ctx, prev, cur)) emitTypeName(ctx, rule, prev, cur, o, n);
  } else if ((typeKind === "message" || typeKind === "group") && !sameName) {
    emitTypeName(ctx, rule, prev, cur, o, n);
  }
}

function kindOfType(type: number): "enum" | "message" | "group" | undefined {
  return type === 14 ? "enum" : type === 11 ? "message" : type === 10 ? "group" : undefined;
}

function emitTypeName(ctx: RuleContext, rule: string, prev: FieldNode, cur: FieldNode, o: FieldNode, n: FieldNode): void {
  ctx.emit(
    hit(
      rule,
      `${describeField(n)} changed type from "${o.typeName}" to "${n.typeName}".`,
      n.fullName,
      cur.file,
      at(cur.file, [...cur.path, 6]),
      at(prev.file, [...prev.path, 6]),
    ),
  );
}

/** An enum field may switch to an enum with the same short name whose values include the old ones. */
function enumCompatible(ctx: RuleContext, prev: FieldNode, cur: FieldNode): boolean {
  const pe = ctx.prev.enums.get(prev.typeName);
  const ce = ctx.cur.enums.get(cur.typeName);
  if (pe === undefined || ce === undefined || pe.name !== ce.name) return false;
  for (const v of pe.values) {
    if (!(ce.byNumber.get(v.number) ?? []).some((c) => c.name === v.name)) return false;
  }
  return true;
}

// --- cardinality ----------------------------------------------------------------

const wireCardinality: Record<Cardinality, number> = {
  "optional with explicit presence": 1,
  "optional with implicit presence": 1,
  required: 2,
  repeated: 3,
  map: 3,
};
const wireJsonCardinality: Record<Cardinality, number> = { ...wireCardinality, map: 4 };

function checkCardinality(ctx: RuleContext, rule: string, groups: Record<Cardinality, number>, prev: FieldNode, cur: FieldNode): void {
  if (prev.message?.isMapEntry === true && cur.message?.isMapEntry === true) return;
  const pc = fieldCardinality(prev, ctx.prev);
  const cc = fieldCardinality(cur, ctx.cur);
  if (groups[pc] === groups[cc]) return;
  const [oc, nc] = oldNew(ctx, pc, cc);
  const n = ctx.swapped ? prev : cur;
  ctx.emit(
    hit(
      rule,
      `${describeField(n)} changed cardinality from "${oc}" to "${nc}"; readers of one version cannot decode what the other writes.`,
      n.fullName,
      cur.file,
      at(cur.file, cur.path),
      at(prev.file, prev.path),
    ),
  );
}

// --- deletions --------------------------------------------------------------------

function inRanges(n: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([s, e]) => n >= s && n <= e);
}

function checkFieldDeletion(ctx: RuleContext, rule: string, byNumber: boolean): void {
  forEachMessagePair(ctx, (pm, cm) => {
    for (const [number, prev] of pm.byNumber) {
      if (cm.byNumber.has(number)) continue;
      const allowed = byNumber ? inRanges(number, cm.reservedRanges) : cm.reservedNames.has(prev.name);
      if (allowed) continue;
      const suffix = byNumber ? `without reserving the number ${number}` : `without reserving the name "${prev.name}"`;
      const why = byNumber
        ? "a later version could reuse the number with another type or meaning"
        : "a later version could reuse the name, and JSON data written with the old field would be read into the new one";
      ctx.emit(
        hit(
          rule,
          `Field "${prev.name}" (number ${number}) was deleted from message "${cm.fullName}" ${suffix}; ${why}. Add \`reserved ${byNumber ? number : `"${prev.name}"`};\`.`,
          prev.fullName,
          cm.file,
          at(cm.file, cm.path),
          at(pm.file, pm.path),
        ),
      );
    }
  });
}

function checkEnumValueDeletion(ctx: RuleContext, rule: string, byNumber: boolean): void {
  forEachEnumPair(ctx, (pe, ce) => {
    for (const [number, prevValues] of pe.byNumber) {
      if (ce.byNumber.has(number)) continue;
      const allowed = byNumber ? inRanges(number, ce.reservedRanges) : prevValues.every((v) => ce.reservedNames.has(v.name));
      if (allowed) continue;
      const names = prevValues.map((v) => v.name).sort();
      const suffix = byNumber
        ? `without reserving the number ${number}`
        : `without reserving the name${names.length > 1 ? "s" : ""} ${names.map((s) => `"${s}"`).join(", ")}`;
      ctx.emit(
        hit(
          rule,
          `Enum value ${names.map((s) => `"${s}"`).join(", ")} (number ${number}) was deleted from enum "${ce.fullName}" ${suffix}; a later version could reuse it with another meaning.`,
          `${pe.fullName}.${names[0] ?? number}`,
          ce.file,
          at(ce.file, ce.path),
          at(pe.file, pe.path),
        ),
      );
    }
  });
}

function missingFromRanges(prevRanges: readonly [number, number][], curRanges: readonly [number, number][]): [number, number][] {
  const sorted = [...curRanges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const missing: [number, number][] = [];
  for (const [start, end] of prevRanges) {
    let next = start;
    for (const [s, e] of sorted) {
      if (e < next) continue;
      if (s > end) break;
      if (s > next) missing.push([next, s - 1]);
      next = Math.max(next, e + 1);
      if (next > end) break;
    }
    if (next <= end) missing.push([next, end]);
  }
  return missing;
}

function checkReserved(ctx: RuleContext, rule: string, kind: "message" | "enum", prev: MessageNode | EnumNode, cur: MessageNode | EnumNode): void {
  const loc = at(cur.file, cur.path);
  const against = at(prev.file, prev.path);
  // Buf reports one violation per previous range with missing values; report the same count.
  for (const [start, end] of prev.reservedRanges) {
    const gaps = missingFromRanges([[start, end]], cur.reservedRanges);
    if (gaps.length === 0) continue;
    const text = gaps.map(([s, e]) => (s === e ? `${s}` : `${s} to ${e}`)).join(", ");
    ctx.emit(
      hit(
        rule,
        start === end
          ? `Reserved number ${start} was removed from ${kind} "${cur.fullName}"; it could be reused with another meaning.`
          : `Reserved range ${start} to ${end} of ${kind} "${cur.fullName}" no longer covers ${text}; those numbers could be reused with another meaning.`,
        cur.fullName,
        cur.file,
        loc,
        against,
      ),
    );
  }
  for (const name of prev.reservedNames) {
    if (cur.reservedNames.has(name)) continue;
    ctx.emit(
      hit(
        rule,
        `Reserved name "${name}" was removed from ${kind} "${cur.fullName}"; the name could be reused with another meaning.`,
        cur.fullName,
        cur.file,
        loc,
        against,
      ),
    );
  }
}

// --- the rules ----------------------------------------------------------------------

const WIRE: readonly RuleCategory[] = ["WIRE", "WIRE_JSON"];
const WIRE_JSON_ONLY: readonly RuleCategory[] = ["WIRE_JSON"];
const WIRE_ONLY: readonly RuleCategory[] = ["WIRE"];

/**
 * Buf's rules in the WIRE and WIRE_JSON categories (buf 1.75, `version: v1`
 * configuration, which is what the conformance oracle runs).
 */
export const rules: readonly Rule[] = [
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
    categories: WIRE,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields stay in (or out of) the same oneof.",
    check: (ctx) =>
      forEachFieldPair(ctx, (prev, cur) => {
        if (prev.extendee !== undefined || prev.oneof === cur.oneof) return;
        const [o, n] = oldNew(ctx, prev, cur);
        const what =
          o.oneof !== undefined && n.oneof !== undefined
            ? `moved from oneof "${o.oneof}" to oneof "${n.oneof}"`
            : n.oneof !== undefined
              ? `moved into oneof "${n.oneof}"`
              : `moved out of oneof "${o.oneof ?? ""}"`;
        ctx.emit(
          hit(
            "FIELD_SAME_ONEOF",
            `${describeField(n)} ${what}; setting it can now clear other fields, or no longer does.`,
            n.fullName,
            cur.file,
            at(cur.file, cur.path),
            at(prev.file, prev.path),
          ),
        );
      }),
  },
  {
    id: "FIELD_SAME_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep their names (JSON uses them).",
    check: (ctx) =>
      forEachFieldPair(ctx, (prev, cur) => {
        const pn = prev.extendee !== undefined ? prev.fullName : prev.name;
        const cn = cur.extendee !== undefined ? cur.fullName : cur.name;
        if (pn === cn) return;
        const [on, nn] = oldNew(ctx, pn, cn);
        const n = ctx.swapped ? prev : cur;
        ctx.emit(
          hit(
            "FIELD_SAME_NAME",
            `${describeField(n, false)} changed name from "${on}" to "${nn}"; JSON and text data use the name.`,
            n.fullName,
            cur.file,
            at(cur.file, [...cur.path, 1]),
            at(prev.file, [...prev.path, 1]),
          ),
        );
      }),
  },
  {
    id: "FIELD_SAME_JSON_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Fields keep their JSON names.",
    check: (ctx) =>
      forEachFieldPair(ctx, (prev, cur) => {
        if (prev.extendee !== undefined || prev.jsonName === cur.jsonName) return;
        const [oj, nj] = oldNew(ctx, prev.jsonName, cur.jsonName);
        const n = ctx.swapped ? prev : cur;
        ctx.emit(
          hit(
            "FIELD_SAME_JSON_NAME",
            `${describeField(n)} changed its JSON name from "${oj}" to "${nj}"; JSON data written with one is not read by the other.`,
            n.fullName,
            cur.file,
            at(cur.file, [...cur.path, 10], cur.path),
            at(prev.file, [...prev.path, 10], prev.path),
          ),
        );
      }),
  },
  {
    id: "MESSAGE_SAME_REQUIRED_FIELDS",
    categories: WIRE,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Messages neither gain nor lose required fields.",
    check: (ctx) =>
      forEachMessagePair(ctx, (pm, cm) => {
        for (const [number, pf] of pm.byNumber) {
          if (!isRequired(pf)) continue;
          const cf = cm.byNumber.get(number);
          if (cf !== undefined && isRequired(cf)) continue;
          const verb = ctx.swapped ? "added" : "deleted";
          ctx.emit(
            hit(
              "MESSAGE_SAME_REQUIRED_FIELDS",
              `Message "${cm.fullName}" had required field "${pf.name}" (number ${number}) ${verb}; required fields must always be sent, so readers that expect it reject data without it.`,
              pf.fullName,
              cm.file,
              at(cm.file, cm.path),
              at(pm.file, pm.path),
            ),
          );
        }
        for (const [number, cf] of cm.byNumber) {
          if (!isRequired(cf)) continue;
          const pf = pm.byNumber.get(number);
          if (pf !== undefined && isRequired(pf)) continue;
          const verb = ctx.swapped ? "deleted" : "added";
          ctx.emit(
            hit(
              "MESSAGE_SAME_REQUIRED_FIELDS",
              `Message "${cm.fullName}" had required field "${cf.name}" (number ${number}) ${verb}; required fields must always be sent, so readers that expect it reject data without it.`,
              cf.fullName,
              cm.file,
              at(cm.file, cf.path),
              undefined,
            ),
          );
        }
      }),
  },
  {
    id: "MESSAGE_SAME_JSON_FORMAT",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Messages keep JSON support.",
    check: (ctx) =>
      forEachMessagePair(ctx, (pm, cm) => {
        const pf = jsonFormat(pm.file, pm.parent, pm.proto.options?.features);
        const cf = jsonFormat(cm.file, cm.parent, cm.proto.options?.features);
        if (pf !== 1 || cf === 1) return;
        ctx.emit(
          hit(
            "MESSAGE_SAME_JSON_FORMAT",
            `Message "${cm.fullName}" ${ctx.swapped ? "gained" : "lost"} full JSON support (json_format ALLOW vs LEGACY_BEST_EFFORT).`,
            cm.fullName,
            cm.file,
            at(cm.file, [...cm.path, 7, 12, 6], cm.path),
            at(pm.file, [...pm.path, 7, 12, 6], pm.path),
          ),
        );
      }),
  },
  {
    id: "ENUM_SAME_JSON_FORMAT",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Enums keep JSON support.",
    check: (ctx) =>
      forEachEnumPair(ctx, (pe, ce) => {
        const pf = jsonFormat(pe.file, pe.parent, pe.proto.options?.features);
        const cf = jsonFormat(ce.file, ce.parent, ce.proto.options?.features);
        if (pf !== 1 || cf === 1) return;
        ctx.emit(
          hit(
            "ENUM_SAME_JSON_FORMAT",
            `Enum "${ce.fullName}" ${ctx.swapped ? "gained" : "lost"} full JSON support (json_format ALLOW vs LEGACY_BEST_EFFORT).`,
            ce.fullName,
            ce.file,
            at(ce.file, [...ce.path, 3, 7, 6], ce.path),
            at(pe.file, [...pe.path, 3, 7, 6], pe.path),
          ),
        );
      }),
  },
  {
    id: "ENUM_VALUE_SAME_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Enum values keep their names (JSON uses them).",
    check: (ctx) =>
      forEachEnumPair(ctx, (pe, ce) => {
        for (const [number, prevValues] of pe.byNumber) {
          const curValues = ce.byNumber.get(number);
          if (curValues === undefined) continue;
          // Adding an alias is fine; every earlier name must still be there.
          const curNames = new Set(curValues.map((v) => v.name));
          if (prevValues.every((v) => curNames.has(v.name))) continue;
          const [o, n] = oldNew(
            ctx,
            prevValues.map((v) => v.name),
            [...curNames],
          );
          const list = (names: string[]): string =>
            [...new Set(names)]
              .sort()
              .map((s) => `"${s}"`)
              .join(", ");
          // Report each value of the newer enum, located in the newer schema.
          const reported = ctx.swapped ? prevValues : curValues;
          const reportedFile = ctx.swapped ? pe.file : ce.file;
          for (const value of reported) {
            const loc = at(reportedFile, [...value.path, 2], value.path);
            ctx.emit(
              hit(
                "ENUM_VALUE_SAME_NAME",
                `Enum value ${number} of enum "${ce.fullName}" changed name from ${list(o)} to ${list(n)}; JSON data carries the name.`,
                `${ce.fullName}.${value.name}`,
                ce.file,
                ctx.swapped ? undefined : loc,
                ctx.swapped ? loc : undefined,
              ),
            );
          }
        }
      }),
  },
  {
    id: "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
    categories: WIRE,
    direction: "history",
    subjectScoped: true,
    purpose: "Deleted fields have their numbers reserved.",
    check: (ctx) => checkFieldDeletion(ctx, "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", true),
  },
  {
    id: "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
    categories: WIRE_JSON_ONLY,
    direction: "history",
    subjectScoped: true,
    purpose: "Deleted fields have their names reserved.",
    check: (ctx) => checkFieldDeletion(ctx, "FIELD_NO_DELETE_UNLESS_NAME_RESERVED", false),
  },
  {
    id: "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
    categories: WIRE,
    direction: "history",
    subjectScoped: true,
    purpose: "Deleted enum values have their numbers reserved.",
    check: (ctx) => checkEnumValueDeletion(ctx, "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", true),
  },
  {
    id: "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED",
    categories: WIRE_JSON_ONLY,
    direction: "history",
    subjectScoped: true,
    purpose: "Deleted enum values have their names reserved.",
    check: (ctx) => checkEnumValueDeletion(ctx, "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", false),
  },
  {
    id: "RESERVED_MESSAGE_NO_DELETE",
    categories: WIRE,
    direction: "history",
    subjectScoped: true,
    purpose: "Messages keep their reserved numbers and names.",
    check: (ctx) => forEachMessagePair(ctx, (p, c) => checkReserved(ctx, "RESERVED_MESSAGE_NO_DELETE", "message", p, c)),
  },
  {
    id: "RESERVED_ENUM_NO_DELETE",
    categories: WIRE,
    direction: "history",
    subjectScoped: true,
    purpose: "Enums keep their reserved numbers and names.",
    check: (ctx) => forEachEnumPair(ctx, (p, c) => checkReserved(ctx, "RESERVED_ENUM_NO_DELETE", "enum", p, c)),
  },
  {
    id: "FILE_SAME_PACKAGE",
    categories: WIRE,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: false,
    purpose: "Files keep their package.",
    check: (ctx) => {
      for (const [path, pf] of ctx.prev.files) {
        const cf = ctx.cur.files.get(path);
        if (cf === undefined || pf.pkg === cf.pkg) continue;
        const [o, n] = oldNew(ctx, pf.pkg, cf.pkg);
        ctx.emit(
          hit(
            "FILE_SAME_PACKAGE",
            `File "${path}" changed package from "${o}" to "${n}"; every type in it changed its full name.`,
            path,
            cf,
            at(cf, [2]) ?? { file: path, line: 1, column: 1 },
            at(pf, [2]) ?? { file: path, line: 1, column: 1 },
          ),
        );
      }
    },
  },
  ...rpcRules(),
];

function rpcRules(): Rule[] {
  type MethodPair = { service: string; name: string; prevFile: FileNode; curFile: FileNode; prevPath: readonly number[]; curPath: readonly number[] };
  const forEachMethodPair = (ctx: RuleContext, fn: (p: MethodPair, pm: MethodNode, cm: MethodNode) => void): void => {
    for (const [name, ps] of ctx.prev.services) {
      const cs = ctx.cur.services.get(name);
      if (cs === undefined) continue;
      for (const [mname, pm] of ps.methods) {
        const cm = cs.methods.get(mname);
        if (cm === undefined) continue;
        fn({ service: name, name: mname, prevFile: ps.file, curFile: cs.file, prevPath: pm.path, curPath: cm.path }, pm, cm);
      }
    }
  };
  const make = (id: string, purpose: string, differs: (p: MethodNode, c: MethodNode) => string | undefined, subPath: number[]): Rule => ({
    id,
    categories: WIRE,
    direction: "both-ways",
    subjectScoped: false,
    purpose,
    check: (ctx) =>
      forEachMethodPair(ctx, (pair, pm, cm) => {
        const [o, n] = oldNew(ctx, pm, cm);
        const what = differs(o, n);
        if (what === undefined) return;
        ctx.emit(
          hit(
            id,
            `RPC "${pair.name}" of service "${pair.service}" ${what}.`,
            `${pair.service}.${pair.name}`,
            pair.curFile,
            at(pair.curFile, [...pair.curPath, ...subPath]),
            at(pair.prevFile, [...pair.prevPath, ...subPath]),
          ),
        );
      }),
  });
  const streaming = (b: boolean): string => (b ? "streaming" : "unary");
  return [
    make(
      "RPC_SAME_CLIENT_STREAMING",
      "RPCs keep client streaming.",
      (o, n) =>
        o.proto.clientStreaming === n.proto.clientStreaming
          ? undefined
          : `changed from client ${streaming(o.proto.clientStreaming)} to client ${streaming(n.proto.clientStreaming)}`,
      [],
    ),
    make(
      "RPC_SAME_SERVER_STREAMING",
      "RPCs keep server streaming.",
      (o, n) =>
        o.proto.serverStreaming === n.proto.serverStreaming
          ? undefined
          : `changed from server ${streaming(o.proto.serverStreaming)} to server ${streaming(n.proto.serverStreaming)}`,
      [],
    ),
    make(
      "RPC_SAME_REQUEST_TYPE",
      "RPCs keep their request type.",
      (o, n) =>
        trimDot(o.proto.inputType) === trimDot(n.proto.inputType)
          ? undefined
          : `changed request type from "${trimDot(o.proto.inputType)}" to "${trimDot(n.proto.inputType)}"`,
      [2],
    ),
    make(
      "RPC_SAME_RESPONSE_TYPE",
      "RPCs keep their response type.",
      (o, n) =>
        trimDot(o.proto.outputType) === trimDot(n.proto.outputType)
          ? undefined
          : `changed response type from "${trimDot(o.proto.outputType)}" to "${trimDot(n.proto.outputType)}"`,
      [3],
    ),
    make(
      "RPC_SAME_IDEMPOTENCY_LEVEL",
      "RPCs keep their idempotency level.",
      (o, n) => {
        const ol = o.proto.options?.idempotencyLevel ?? 0;
        const nl = n.proto.options?.idempotencyLevel ?? 0;
        const names = ["IDEMPOTENCY_UNKNOWN", "NO_SIDE_EFFECTS", "IDEMPOTENT"];
        return ol === nl ? undefined : `changed option "idempotency_level" from "${names[ol] ?? ol}" to "${names[nl] ?? nl}"`;
      },
      [4, 34],
    ),
  ];
}

/** Rules of a category. */
export function rulesOf(category: RuleCategory): readonly Rule[] {
  return rules.filter((r) => r.categories.includes(category));
}
