import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { FieldPathModel, KeyPathStep } from "./types.js";

/** A resolved path, or the reason it cannot be a key (a sentence without the option's name). */
export type FieldPathResult = { ok: true; value: FieldPathModel } | { ok: false; reason: string };

function fieldNames(message: DescMessage): string {
  return message.fields.length ? message.fields.map((f) => f.name).join(", ") : "(none)";
}

function kindOf(field: DescField): string {
  switch (field.fieldKind) {
    case "list":
      return "a repeated field";
    case "map":
      return "a map field";
    case "message":
      return `a message field (${field.message.typeName})`;
    case "enum":
      return "an enum field";
    case "scalar":
      return field.scalar === ScalarType.BYTES ? "a bytes field" : "a scalar field";
  }
}

/**
 * Resolves a field path such as `customer.id` against an event message: every
 * step but the last must be a singular message field, and the last a singular
 * scalar (not bytes) or enum field outside any oneof. Proto field names are
 * used, as written in the `.proto` file.
 */
export function resolveFieldPath(message: DescMessage, path: string): FieldPathResult {
  const segments = path.split(".");
  const steps: KeyPathStep[] = [];
  let current = message;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    const field = current.fields.find((f) => f.name === seg);
    if (!field) {
      const hint = current.fields.find((f) => f.localName === seg || f.jsonName === seg);
      const didYouMean = hint
        ? `; did you mean "${[...segments.slice(0, i), hint.name].join(".")}" (proto field names are used)?`
        : `; its fields: ${fieldNames(current)}`;
      return { ok: false, reason: `${current.name} has no field "${seg}"${didYouMean}` };
    }
    if (field.oneof) {
      return {
        ok: false,
        reason: `field "${seg}" of ${current.name} is a member of oneof "${field.oneof.name}", which may hold another case; use a field outside any oneof`,
      };
    }
    if (!last) {
      if (field.fieldKind !== "message") {
        return {
          ok: false,
          reason: `field "${seg}" of ${current.name} is ${kindOf(field)}, not a singular message field, so the path cannot continue through it`,
        };
      }
      steps.push({ name: field.name, localName: field.localName, message: true, optional: true, field });
      current = field.message;
      continue;
    }
    if (field.fieldKind === "message") {
      const sub = field.message.fields.find((f) => f.fieldKind === "scalar" || f.fieldKind === "enum");
      const example = sub ? `, e.g. "${[...segments, sub.name].join(".")}"` : "";
      return { ok: false, reason: `field "${seg}" of ${current.name} is ${kindOf(field)}; name one of its scalar fields${example}` };
    }
    if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") {
      return { ok: false, reason: `field "${seg}" of ${current.name} is ${kindOf(field)}; use a singular scalar or enum field` };
    }
    if (field.fieldKind === "scalar" && field.scalar === ScalarType.BYTES) {
      return { ok: false, reason: `field "${seg}" of ${current.name} is a bytes field; use a string or integer field` };
    }
    steps.push({
      name: field.name,
      localName: field.localName,
      message: false,
      optional: field.presence !== FeatureSet_FieldPresence.IMPLICIT,
      field,
    });
  }
  return { ok: true, value: { path, steps } };
}
