import { locate, type EnumNode, type FieldNode, type FileNode, type MessageNode, type SchemaIndex } from "../model.js";
import type { RuleCategory, SourceLocation } from "../types.js";

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

/**
 * The element a hit is about, which decides the subjects it affects: a
 * message (for its fields, reservations and options; for an extension, the
 * message it extends), an enum (its values, reservations, options), a file
 * (its package) or a service (its RPCs).
 */
export interface HitOwner {
  readonly kind: "message" | "enum" | "file" | "service";
  /** Full name of the message, enum or service; path of the file. */
  readonly name: string;
}

/** A violation as a rule reports it, before the caller picks a location. */
export interface RuleHit {
  rule: string;
  message: string;
  path: string;
  owner: HitOwner;
  /** Location in the `current` side (Buf's reporting location). */
  location: SourceLocation | undefined;
  /** Location of the same element in the `previous` side. */
  againstLocation: SourceLocation | undefined;
  /** File of the `current` side the hit belongs to. */
  file: string;
}

/** Which elements a subject-scoped check looks at. */
export interface Scope {
  readonly messages: ReadonlySet<string>;
  readonly enums: ReadonlySet<string>;
}

/** Elements paired the way Buf pairs them, computed once per version pair (see `pairElements`). */
export interface Pairs {
  readonly messages: readonly [MessageNode, MessageNode][];
  readonly enums: readonly [EnumNode, EnumNode][];
  readonly fields: readonly [FieldNode, FieldNode][];
}

/** What a rule's check receives: both schemas, their paired elements, and where to report. */
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

/**
 * One breaking-change rule, as data: its ID, the categories that include it,
 * how it applies across versions, and its check. A category is a tag on its
 * rules, so adding one means adding rules (or tags), not changing the engine.
 */
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

/** Buf's WIRE and WIRE_JSON categories: WIRE_JSON includes every WIRE rule. */
export const WIRE_AND_WIRE_JSON: readonly RuleCategory[] = ["WIRE", "WIRE_JSON"];
/** Rules of WIRE_JSON only (JSON names, JSON formats, stricter types). */
export const WIRE_JSON_ONLY: readonly RuleCategory[] = ["WIRE_JSON"];
/** Rules of WIRE that WIRE_JSON replaces with a stricter one. */
export const WIRE_ONLY: readonly RuleCategory[] = ["WIRE"];

/** The first of `paths` that has a source location in `file`. */
export function at(file: FileNode, ...paths: (readonly number[])[]): SourceLocation | undefined {
  for (const path of paths) {
    const loc = locate(file, path);
    if (loc !== undefined) return loc;
  }
  return undefined;
}

/** [older, newer] of a pair, whatever roles they play in the check. */
export function oldNew<T>(ctx: RuleContext, prev: T, cur: T): [T, T] {
  return ctx.swapped ? [cur, prev] : [prev, cur];
}

/** The owner of a field's hits: its message, or for an extension the message it extends. */
export function fieldOwner(field: FieldNode): HitOwner {
  return { kind: "message", name: field.extendee ?? field.message?.fullName ?? "" };
}

/** `Field "name" (number 2) of message "pkg.Msg"`, or the same for an extension. */
export function describeField(field: FieldNode, withName = true): string {
  const kind = field.extendee !== undefined ? "Extension" : "Field";
  const owner = field.extendee ?? field.message?.fullName ?? "";
  const name = withName ? ` "${field.extendee !== undefined ? field.fullName : field.name}"` : "";
  return `${kind}${name} (number ${field.number}) of ${field.extendee !== undefined ? "extendee" : "message"} "${owner}"`;
}
