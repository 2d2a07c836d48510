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

// The registry: operations over storage, the Connect service, the server and storage
export { openRegistry, DEFAULT_MAX_SCHEMA_BYTES, type Registry, type RegistryOptions } from "./service/registry.js";
export type { RegisteredVersion } from "./service/registry-reads.js";
export type { Registration, CompatibilityReport } from "./service/registration.js";
export type { EffectiveConfig, ConfigChange } from "./service/settings.js";
export { registryErrorCodes, type RegistryErrorReason } from "./service/registry-error.js";
export { DEFAULT_MODE, DEFAULT_CATEGORY, MODE_NAMES, CATEGORY_NAMES } from "./service/modes.js";
export { createRegistryService } from "./server/connect/registry-service.js";
export { startRegistryServer, type RegistryServer, type RegistryServerOptions } from "./server/registry-server.js";
export { STALENESS_HEADER } from "./server/response-headers.js";
export { createKvStore, DEFAULT_REGISTRY_BUCKET, type KvStoreOptions } from "./storage/kv-store.js";
export { createMemoryStore } from "./storage/memory-store.js";
export { StoreUnavailableError, type RegistryStore, type StoredEntry, type StoreChange, type StoreWatch, type StoreWatchListener } from "./storage/store.js";
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
  type RegistryConfig,
  type CompatibilityCheck,
} from "./client/registry-client.js";
export * as registryApi from "./gen/chronicle/registry/v1/registry_pb.js";
export { REGISTRY_REQUIRED_ROLES } from "./server/connect/interceptors.js";
