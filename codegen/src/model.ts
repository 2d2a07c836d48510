// @chronicle/codegen/model: the event model read from descriptors and the
// protobuf-es schemas of Chronicle's options, without the protoc plugin (which
// loads @bufbuild/protoplugin and, through it, the TypeScript compiler): what
// the CLI's schema commands import, so that they start fast.

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
