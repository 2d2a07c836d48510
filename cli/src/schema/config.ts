import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CATEGORY_NAMES, MODE_NAMES, type CompatibilityMode, type RuleCategory } from "@chronicle/registry/compat";
import { UsageError } from "../framework/command.js";

/** How a local check (git ref, image) compares schemas. */
export interface SchemaCheckConfig {
  mode: CompatibilityMode;
  rules: RuleCategory;
}

/** The registry's defaults (docs/decisions 0010). */
export const DEFAULT_SCHEMA_CHECK_CONFIG: SchemaCheckConfig = { mode: "FULL_TRANSITIVE", rules: "WIRE_JSON" };

/** Parses a mode name, case-insensitive, or throws a {@link UsageError} naming where it came from. */
export function parseMode(value: string, where: string): CompatibilityMode {
  const mode = MODE_NAMES.find((m) => m === value.toUpperCase());
  if (!mode) throw new UsageError(`${where} must be one of ${MODE_NAMES.join(", ")}, got ${JSON.stringify(value)}`);
  return mode;
}

/** Parses a rule category, case-insensitive, or throws a {@link UsageError}. */
export function parseRules(value: string, where: string): RuleCategory {
  // CONFLUENT judges one registry subject as a whole file, as Confluent's registry does; module checks run Buf's rules
  const names = CATEGORY_NAMES.filter((c) => c !== "CONFLUENT");
  const rules = names.find((c) => c === value.toUpperCase());
  if (!rules) throw new UsageError(`${where} must be one of ${names.join(", ")}, got ${JSON.stringify(value)}`);
  return rules;
}

/**
 * Reads the `schema:` section of `chronicle.yaml` in the project folder:
 *
 * ```yaml
 * schema:
 *   mode: FULL_TRANSITIVE   # BACKWARD, FORWARD, FULL, each also _TRANSITIVE, or NONE
 *   rules: WIRE_JSON        # or WIRE
 * ```
 *
 * Absent file or keys take {@link DEFAULT_SCHEMA_CHECK_CONFIG}. Only these
 * two keys are read; the rest of the file belongs to other commands.
 */
export function readSchemaConfig(dir: string): SchemaCheckConfig {
  const file = join(dir, "chronicle.yaml");
  const config = { ...DEFAULT_SCHEMA_CHECK_CONFIG };
  if (!existsSync(file)) return config;
  let inSection = false;
  for (const raw of readFileSync(file, "utf8").split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "");
    if (/^\S/.test(line)) inSection = /^schema:\s*$/.test(line);
    const m = inSection ? /^\s+(mode|rules):\s*["']?([A-Za-z_]+)["']?\s*$/.exec(line) : null;
    if (m?.[1] === "mode") config.mode = parseMode(m[2]!, "schema.mode in chronicle.yaml");
    if (m?.[1] === "rules") config.rules = parseRules(m[2]!, "schema.rules in chronicle.yaml");
  }
  return config;
}
