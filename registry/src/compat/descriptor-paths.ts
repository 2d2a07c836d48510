import {
  DescriptorProtoSchema,
  EnumDescriptorProtoSchema,
  EnumOptionsSchema,
  EnumValueDescriptorProtoSchema,
  FeatureSetSchema,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  MessageOptionsSchema,
  MethodDescriptorProtoSchema,
  MethodOptionsSchema,
  ServiceDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

// Field numbers of descriptor.proto that make up the paths of
// SourceCodeInfo locations (`[4, 0, 2, 1]` is message 0, field 1), named
// and read from protobuf-es's descriptors of descriptor.proto.

/** Field numbers of `FileDescriptorProto` used in source paths. */
export const FilePath = {
  package: FileDescriptorProtoSchema.field.package.number,
  messageType: FileDescriptorProtoSchema.field.messageType.number,
  enumType: FileDescriptorProtoSchema.field.enumType.number,
  service: FileDescriptorProtoSchema.field.service.number,
  extension: FileDescriptorProtoSchema.field.extension.number,
} as const;

/** Field numbers of `DescriptorProto` (a message) used in source paths. */
export const MessagePath = {
  field: DescriptorProtoSchema.field.field.number,
  nestedType: DescriptorProtoSchema.field.nestedType.number,
  enumType: DescriptorProtoSchema.field.enumType.number,
  extension: DescriptorProtoSchema.field.extension.number,
  options: DescriptorProtoSchema.field.options.number,
  /** `MessageOptions.features`. */
  optionsFeatures: MessageOptionsSchema.field.features.number,
} as const;

/** Field numbers of `FieldDescriptorProto` used in source paths. */
export const FieldPath = {
  name: FieldDescriptorProtoSchema.field.name.number,
  type: FieldDescriptorProtoSchema.field.type.number,
  typeName: FieldDescriptorProtoSchema.field.typeName.number,
  jsonName: FieldDescriptorProtoSchema.field.jsonName.number,
} as const;

/** Field numbers of `EnumDescriptorProto` and `EnumValueDescriptorProto` used in source paths. */
export const EnumPath = {
  value: EnumDescriptorProtoSchema.field.value.number,
  options: EnumDescriptorProtoSchema.field.options.number,
  /** `EnumOptions.features`. */
  optionsFeatures: EnumOptionsSchema.field.features.number,
  /** `EnumValueDescriptorProto.number`, where Buf reports a value whose name changed. */
  valueNumber: EnumValueDescriptorProtoSchema.field.number.number,
} as const;

/** Field numbers of `ServiceDescriptorProto` and `MethodDescriptorProto` used in source paths. */
export const ServicePath = {
  method: ServiceDescriptorProtoSchema.field.method.number,
  inputType: MethodDescriptorProtoSchema.field.inputType.number,
  outputType: MethodDescriptorProtoSchema.field.outputType.number,
  options: MethodDescriptorProtoSchema.field.options.number,
  /** `MethodOptions.idempotency_level`. */
  optionsIdempotencyLevel: MethodOptionsSchema.field.idempotencyLevel.number,
} as const;

/** `FeatureSet.json_format`. */
export const FEATURE_JSON_FORMAT = FeatureSetSchema.field.jsonFormat.number;
