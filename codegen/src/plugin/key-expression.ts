import { ScalarType } from "@bufbuild/protobuf";
import type { FieldPathModel } from "../model/types.js";

/**
 * TypeScript expression that reads a key path from the message in `variable`
 * and yields a string: `e.orderId`, `String(e.amount)`,
 * `e.customer?.id ?? ""`. A path through an unset message, or an unset
 * optional field, yields the empty string.
 */
export function keyExpression(path: FieldPathModel, variable = "e"): string {
  let access = variable;
  let nullable = false;
  for (const step of path.steps) {
    access += `${nullable ? "?." : "."}${step.localName}`;
    nullable = step.message || step.optional || nullable;
  }
  const leaf = path.steps[path.steps.length - 1]!;
  const isString = leaf.field.fieldKind === "scalar" && leaf.field.scalar === ScalarType.STRING;
  if (isString) return nullable ? `${access} ?? ""` : access;
  return nullable ? `String(${access} ?? "")` : `String(${access})`;
}
