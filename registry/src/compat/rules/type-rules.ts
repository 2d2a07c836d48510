import { FeatureSet_JsonFormat } from "@bufbuild/protobuf/wkt";
import { EnumPath, FEATURE_JSON_FORMAT, MessagePath } from "../descriptor-paths.js";
import { isRequired, jsonFormat, type EnumNode, type FieldNode, type MessageNode } from "../model.js";
import type { SourceLocation } from "../types.js";
import { forEachEnumPair, forEachMessagePair } from "./pairs.js";
import { at, oldNew, WIRE_AND_WIRE_JSON, WIRE_JSON_ONLY, type Rule, type RuleContext } from "./rule.js";

// Rules on a message or an enum present in both versions as a whole: its
// required fields, its JSON support, its values' names.

function checkRequiredFields(ctx: RuleContext, prevMessage: MessageNode, curMessage: MessageNode): void {
  const report = (field: FieldNode, verb: string, location: SourceLocation | undefined, againstLocation: SourceLocation | undefined): void =>
    ctx.emit({
      rule: "MESSAGE_SAME_REQUIRED_FIELDS",
      message: `Message "${curMessage.fullName}" had required field "${field.name}" (number ${field.number}) ${verb}; required fields must always be sent, so readers that expect it reject data without it.`,
      path: field.fullName,
      owner: { kind: "message", name: curMessage.fullName },
      file: curMessage.file.path,
      location,
      againstLocation,
    });
  for (const [number, prevField] of prevMessage.byNumber) {
    if (!isRequired(prevField)) continue;
    const curField = curMessage.byNumber.get(number);
    if (curField !== undefined && isRequired(curField)) continue;
    report(prevField, ctx.swapped ? "added" : "deleted", at(curMessage.file, curMessage.path), at(prevMessage.file, prevMessage.path));
  }
  for (const [number, curField] of curMessage.byNumber) {
    if (!isRequired(curField)) continue;
    const prevField = prevMessage.byNumber.get(number);
    if (prevField !== undefined && isRequired(prevField)) continue;
    report(curField, ctx.swapped ? "deleted" : "added", at(curMessage.file, curField.path), undefined);
  }
}

/** JSON support is lost when the previous side allows JSON and the current one does not. */
function lostJson(prev: MessageNode | EnumNode, cur: MessageNode | EnumNode): boolean {
  const prevFormat = jsonFormat(prev.file, prev.parent, prev.proto.options?.features);
  const curFormat = jsonFormat(cur.file, cur.parent, cur.proto.options?.features);
  return prevFormat === FeatureSet_JsonFormat.ALLOW && curFormat !== FeatureSet_JsonFormat.ALLOW;
}

function checkJsonFormat(ctx: RuleContext, kind: "message" | "enum", prev: MessageNode | EnumNode, cur: MessageNode | EnumNode): void {
  if (!lostJson(prev, cur)) return;
  const featurePath = kind === "message" ? [MessagePath.options, MessagePath.optionsFeatures] : [EnumPath.options, EnumPath.optionsFeatures];
  ctx.emit({
    rule: kind === "message" ? "MESSAGE_SAME_JSON_FORMAT" : "ENUM_SAME_JSON_FORMAT",
    message: `${kind === "message" ? "Message" : "Enum"} "${cur.fullName}" ${ctx.swapped ? "gained" : "lost"} full JSON support (json_format ALLOW vs LEGACY_BEST_EFFORT).`,
    path: cur.fullName,
    owner: { kind, name: cur.fullName },
    file: cur.file.path,
    location: at(cur.file, [...cur.path, ...featurePath, FEATURE_JSON_FORMAT], cur.path),
    againstLocation: at(prev.file, [...prev.path, ...featurePath, FEATURE_JSON_FORMAT], prev.path),
  });
}

function checkValueNames(ctx: RuleContext, prevEnum: EnumNode, curEnum: EnumNode): void {
  for (const [number, prevValues] of prevEnum.byNumber) {
    const curValues = curEnum.byNumber.get(number);
    if (curValues === undefined) continue;
    // Adding an alias is fine; every earlier name must still be there.
    const curNames = new Set(curValues.map((v) => v.name));
    if (prevValues.every((v) => curNames.has(v.name))) continue;
    const [olderNames, newerNames] = oldNew(
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
    const reportedFile = ctx.swapped ? prevEnum.file : curEnum.file;
    for (const value of reported) {
      const location = at(reportedFile, [...value.path, EnumPath.valueNumber], value.path);
      ctx.emit({
        rule: "ENUM_VALUE_SAME_NAME",
        message: `Enum value ${number} of enum "${curEnum.fullName}" changed name from ${list(olderNames)} to ${list(newerNames)}; JSON data carries the name.`,
        path: `${curEnum.fullName}.${value.name}`,
        owner: { kind: "enum", name: curEnum.fullName },
        file: curEnum.file.path,
        location: ctx.swapped ? undefined : location,
        againstLocation: ctx.swapped ? location : undefined,
      });
    }
  }
}

/** Rules on messages and enums as a whole. */
export const typeRules: readonly Rule[] = [
  {
    id: "MESSAGE_SAME_REQUIRED_FIELDS",
    categories: WIRE_AND_WIRE_JSON,
    direction: "both-ways",
    symmetric: true,
    subjectScoped: true,
    purpose: "Messages neither gain nor lose required fields.",
    check: (ctx) => forEachMessagePair(ctx, (p, c) => checkRequiredFields(ctx, p, c)),
  },
  {
    id: "MESSAGE_SAME_JSON_FORMAT",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Messages keep JSON support.",
    check: (ctx) => forEachMessagePair(ctx, (p, c) => checkJsonFormat(ctx, "message", p, c)),
  },
  {
    id: "ENUM_SAME_JSON_FORMAT",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Enums keep JSON support.",
    check: (ctx) => forEachEnumPair(ctx, (p, c) => checkJsonFormat(ctx, "enum", p, c)),
  },
  {
    id: "ENUM_VALUE_SAME_NAME",
    categories: WIRE_JSON_ONLY,
    direction: "both-ways",
    subjectScoped: true,
    purpose: "Enum values keep their names (JSON uses them).",
    check: (ctx) => forEachEnumPair(ctx, (p, c) => checkValueNames(ctx, p, c)),
  },
];
