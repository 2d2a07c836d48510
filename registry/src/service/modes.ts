import type { CompatibilityMode as ModeName, RuleCategory as CategoryName } from "../compat/types.js";
import { CompatibilityMode, RuleCategory } from "../gen/chronicle/registry/v1/registry_pb.js";

/** Default compatibility mode (docs/decisions 0010): a replayable log needs both directions, transitively. */
export const DEFAULT_MODE: ModeName = "FULL_TRANSITIVE";
/** Default rule category. */
export const DEFAULT_CATEGORY: CategoryName = "WIRE_JSON";

const modes: ReadonlyArray<readonly [ModeName, CompatibilityMode]> = [
  ["BACKWARD", CompatibilityMode.BACKWARD],
  ["BACKWARD_TRANSITIVE", CompatibilityMode.BACKWARD_TRANSITIVE],
  ["FORWARD", CompatibilityMode.FORWARD],
  ["FORWARD_TRANSITIVE", CompatibilityMode.FORWARD_TRANSITIVE],
  ["FULL", CompatibilityMode.FULL],
  ["FULL_TRANSITIVE", CompatibilityMode.FULL_TRANSITIVE],
  ["NONE", CompatibilityMode.NONE],
];
const categories: ReadonlyArray<readonly [CategoryName, RuleCategory]> = [
  ["WIRE", RuleCategory.WIRE],
  ["WIRE_JSON", RuleCategory.WIRE_JSON],
  ["CONFLUENT", RuleCategory.CONFLUENT],
];

/** Mode name of a wire enum value; undefined for UNSPECIFIED or an unknown number. @private */
export function modeName(value: CompatibilityMode): ModeName | undefined {
  return modes.find(([, v]) => v === value)?.[0];
}
/** Wire enum value of a mode name. @private */
export function modeValue(name: ModeName): CompatibilityMode {
  return modes.find(([n]) => n === name)![1];
}
/** Category name of a wire enum value; undefined for UNSPECIFIED or an unknown number. @private */
export function categoryName(value: RuleCategory): CategoryName | undefined {
  return categories.find(([, v]) => v === value)?.[0];
}
/** Wire enum value of a category name. @private */
export function categoryValue(name: CategoryName): RuleCategory {
  return categories.find(([n]) => n === name)![1];
}
/** Every mode name, for messages and the CLI. */
export const MODE_NAMES: readonly ModeName[] = modes.map(([n]) => n);
/** Every category name. */
export const CATEGORY_NAMES: readonly CategoryName[] = categories.map(([n]) => n);
