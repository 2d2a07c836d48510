// Compatibility engine: pure functions over FileDescriptorSets, no buf at run time.
export type { CompatibilityMode, RuleCategory, SourceLocation, Violation, SchemaVersion, CompatibilityRequest, CompatibilityResult } from "./types.js";
export { checkCompatibility, DEFAULT_COMPATIBILITY_MODE, SUBJECT_MISSING_RULE } from "./check-compatibility.js";
export { compareImages, type CompareImagesOptions } from "./compare-images.js";
export { checkModule, type ModuleCheckRequest, type ModuleCheckResult, type ModuleViolation } from "./check-module.js";
export { normalizeSchema, schemaId, validateSchemaSet, extractSubjectSchema, subjectSchemas, type SubjectSchemas } from "./schema-set.js";
export { SchemaValidationError, type SchemaValidationReason } from "./errors.js";
export { ruleCatalog, type RuleInfo } from "./rule-catalog.js";

// the names of the compatibility modes and rule categories, as configs and command lines spell them
export { MODE_NAMES, CATEGORY_NAMES, DEFAULT_MODE, DEFAULT_CATEGORY } from "../service/modes.js";
