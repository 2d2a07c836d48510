import type { EnumNode, MessageNode } from "../model.js";
import { forEachEnumPair, forEachMessagePair } from "./pairs.js";
import { at, WIRE_AND_WIRE_JSON, WIRE_JSON_ONLY, type Rule, type RuleContext } from "./rule.js";

// Rules on what the older version had and the newer one dropped: fields and
// enum values deleted without reserving them, reservations removed. They run
// old -> new only (`history`).

function inRanges(n: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([s, e]) => n >= s && n <= e);
}

function checkFieldDeletion(ctx: RuleContext, rule: string, byNumber: boolean): void {
  forEachMessagePair(ctx, (prevMessage, curMessage) => {
    for (const [number, prev] of prevMessage.byNumber) {
      if (curMessage.byNumber.has(number)) continue;
      const allowed = byNumber ? inRanges(number, curMessage.reservedRanges) : curMessage.reservedNames.has(prev.name);
      if (allowed) continue;
      const suffix = byNumber ? `without reserving the number ${number}` : `without reserving the name "${prev.name}"`;
      const why = byNumber
        ? "a later version could reuse the number with another type or meaning"
        : "a later version could reuse the name, and JSON data written with the old field would be read into the new one";
      ctx.emit({
        rule,
        message: `Field "${prev.name}" (number ${number}) was deleted from message "${curMessage.fullName}" ${suffix}; ${why}. Add \`reserved ${byNumber ? number : `"${prev.name}"`};\`.`,
        path: prev.fullName,
        owner: { kind: "message", name: curMessage.fullName },
        file: curMessage.file.path,
        location: at(curMessage.file, curMessage.path),
        againstLocation: at(prevMessage.file, prevMessage.path),
      });
    }
  });
}

function checkEnumValueDeletion(ctx: RuleContext, rule: string, byNumber: boolean): void {
  forEachEnumPair(ctx, (prevEnum, curEnum) => {
    for (const [number, prevValues] of prevEnum.byNumber) {
      if (curEnum.byNumber.has(number)) continue;
      const allowed = byNumber ? inRanges(number, curEnum.reservedRanges) : prevValues.every((v) => curEnum.reservedNames.has(v.name));
      if (allowed) continue;
      const names = prevValues.map((v) => v.name).sort();
      const quoted = names.map((s) => `"${s}"`).join(", ");
      const suffix = byNumber ? `without reserving the number ${number}` : `without reserving the name${names.length > 1 ? "s" : ""} ${quoted}`;
      ctx.emit({
        rule,
        message: `Enum value ${quoted} (number ${number}) was deleted from enum "${curEnum.fullName}" ${suffix}; a later version could reuse it with another meaning.`,
        path: `${prevEnum.fullName}.${names[0] ?? number}`,
        owner: { kind: "enum", name: curEnum.fullName },
        file: curEnum.file.path,
        location: at(curEnum.file, curEnum.path),
        againstLocation: at(prevEnum.file, prevEnum.path),
      });
    }
  });
}

/** The parts of `prevRanges` that `curRanges` no longer cover (inclusive ranges). */
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
  const report = (message: string): void =>
    ctx.emit({
      rule,
      message,
      path: cur.fullName,
      owner: { kind, name: cur.fullName },
      file: cur.file.path,
      location: at(cur.file, cur.path),
      againstLocation: at(prev.file, prev.path),
    });
  // Buf reports one violation per previous range with missing values; report the same count.
  for (const [start, end] of prev.reservedRanges) {
    const gaps = missingFromRanges([[start, end]], cur.reservedRanges);
    if (gaps.length === 0) continue;
    const text = gaps.map(([s, e]) => (s === e ? `${s}` : `${s} to ${e}`)).join(", ");
    report(
      start === end
        ? `Reserved number ${start} was removed from ${kind} "${cur.fullName}"; it could be reused with another meaning.`
        : `Reserved range ${start} to ${end} of ${kind} "${cur.fullName}" no longer covers ${text}; those numbers could be reused with another meaning.`,
    );
  }
  for (const name of prev.reservedNames) {
    if (!cur.reservedNames.has(name)) {
      report(`Reserved name "${name}" was removed from ${kind} "${cur.fullName}"; the name could be reused with another meaning.`);
    }
  }
}

/** Rules on deletions and removed reservations. */
export const deletionRules: readonly Rule[] = [
  {
    id: "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
    categories: WIRE_AND_WIRE_JSON,
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
    categories: WIRE_AND_WIRE_JSON,
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
    categories: WIRE_AND_WIRE_JSON,
    direction: "history",
    subjectScoped: true,
    purpose: "Messages keep their reserved numbers and names.",
    check: (ctx) => forEachMessagePair(ctx, (p, c) => checkReserved(ctx, "RESERVED_MESSAGE_NO_DELETE", "message", p, c)),
  },
  {
    id: "RESERVED_ENUM_NO_DELETE",
    categories: WIRE_AND_WIRE_JSON,
    direction: "history",
    subjectScoped: true,
    purpose: "Enums keep their reserved numbers and names.",
    check: (ctx) => forEachEnumPair(ctx, (p, c) => checkReserved(ctx, "RESERVED_ENUM_NO_DELETE", "enum", p, c)),
  },
];
