// @chronicle/codegen: protoc-gen-chronicle and the event model it shares with
// the CLI. Everything users and other packages may import is listed here.

// Event model read from descriptors (Chronicle's options)
export {
  buildEventModel,
  streamIdentifier,
  formatDiagnostic,
  parseDuration,
  resolveFieldPath,
  type Diagnostic,
  type EventModel,
  type EventModelResult,
  type FieldPathModel,
  type FieldPathResult,
  type KeyPathStep,
  type SourceLocation,
  type StreamModel,
  type StreamSettingsModel,
} from "./model/index.js";

// protobuf-es schemas of chronicle/v1/options.proto
export { file_chronicle_v1_options, event, stream, EventOptionsSchema, StreamOptionsSchema, Storage, StorageSchema } from "./gen/chronicle/v1/options_pb.js";
export type { EventOptions, StreamOptions } from "./gen/chronicle/v1/options_pb.js";

// The protoc plugin
export { protocGenChronicle, PLUGIN_VERSION } from "./plugin/protoc-gen-chronicle.js";
export { streamNames, type StreamNames } from "./plugin/names.js";
export { keyExpression } from "./plugin/key-expression.js";
