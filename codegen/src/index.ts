// @chronicle/codegen: protoc-gen-chronicle and the event model it shares with
// the CLI. Everything users and other packages may import is listed here.

// Event model read from descriptors (Chronicle's options), and the
// protobuf-es schemas of chronicle/v1/options.proto: also at
// @chronicle/codegen/model, without the plugin
export * from "./model.js";

// The protoc plugin
export { protocGenChronicle, PLUGIN_VERSION } from "./plugin/protoc-gen-chronicle.js";
export { streamNames, type StreamNames } from "./plugin/names.js";
export { keyExpression } from "./plugin/key-expression.js";
