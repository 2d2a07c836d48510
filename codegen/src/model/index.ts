export { buildEventModel, streamIdentifier } from "./build-event-model.js";
export { formatDiagnostic } from "./diagnostics.js";
export { parseDuration } from "./duration.js";
export { resolveFieldPath, type FieldPathResult } from "./field-path.js";
export {
  type Diagnostic,
  type EventModel,
  type EventModelResult,
  type FieldPathModel,
  type KeyPathStep,
  type SourceLocation,
  type StreamModel,
  type StreamSettingsModel,
} from "./types.js";
