// @chronicle/registry: the public API. Everything users may import is listed
// here; files not re-exported are internal.

export type { CompatibilityMode, RuleCategory, SourceLocation, Violation, SchemaVersion, CompatibilityRequest, CompatibilityResult } from "./compat/types.js";

// Compatibility engine
export {
  checkCompatibility,
  checkModule,
  compareImages,
  normalizeSchema,
  schemaId,
  validateSchemaSet,
  extractSubjectSchema,
  subjectSchemas,
  SchemaValidationError,
  ruleCatalog,
  DEFAULT_COMPATIBILITY_MODE,
  SUBJECT_MISSING_RULE,
  type CompareImagesOptions,
  type ModuleCheckRequest,
  type ModuleCheckResult,
  type ModuleViolation,
  type SubjectSchemas,
  type SchemaValidationReason,
  type RuleInfo,
} from "./compat/index.js";

// Registry service, storage, access control and client
export { createRegistryService, DEFAULT_MAX_SCHEMA_BYTES, type RegistryServiceOptions } from "./service/registry-service.js";
export { DEFAULT_MODE, DEFAULT_CATEGORY, MODE_NAMES, CATEGORY_NAMES } from "./service/modes.js";
export { startRegistryServer, type RegistryServer, type RegistryServerOptions } from "./server/registry-server.js";
export { createKvStore, DEFAULT_REGISTRY_BUCKET, type KvStoreOptions } from "./storage/kv-store.js";
export { createMemoryStore } from "./storage/memory-store.js";
export { StoreUnavailableError, type RegistryStore, type StoredEntry } from "./storage/store.js";
export {
  createAuthenticator,
  parseTokens,
  loadTokensFile,
  type Role,
  type TokenEntry,
  type Principal,
  type AuthOptions,
  type Authenticator,
} from "./auth/tokens.js";
export {
  createRegistryClient,
  violationsOf,
  type RegistryClient,
  type RegistryClientOptions,
  type RegisteredVersion,
  type RegistryConfig,
  type CompatibilityCheck,
} from "./client/registry-client.js";
export * as registryApi from "./gen/chronicle/registry/v1/registry_pb.js";
