import {
  FeatureSet_FieldPresence,
  FeatureSet_JsonFormat,
  FeatureSet_MessageEncoding,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FeatureSet,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
  type MethodDescriptorProto,
  type SourceCodeInfo_Location,
} from "@bufbuild/protobuf/wkt";
import { EnumPath, FilePath, MessagePath, ServicePath } from "./descriptor-paths.js";
import { SchemaValidationError } from "./errors.js";
import type { SourceLocation } from "./types.js";

// An index over the raw descriptor protos of a FileDescriptorSet, with the few
// resolved properties the rules need (presence, delimited encoding, JSON
// format, map entries). Built from the protos directly rather than through
// createFileRegistry so that it never asserts on malformed input, keeps map
// entries as messages (Buf checks their fields too) and stays fast.

/** protoreflect kinds, named as Buf prints them. */
export type FieldKind =
  | "double"
  | "float"
  | "int64"
  | "uint64"
  | "int32"
  | "fixed64"
  | "fixed32"
  | "bool"
  | "string"
  | "group"
  | "message"
  | "bytes"
  | "uint32"
  | "enum"
  | "sfixed32"
  | "sfixed64"
  | "sint32"
  | "sint64";

const kindByType: Readonly<Record<FieldDescriptorProto_Type, FieldKind>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.GROUP]: "group",
  [FieldDescriptorProto_Type.MESSAGE]: "message",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.ENUM]: "enum",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

export type Cardinality = "optional with explicit presence" | "optional with implicit presence" | "required" | "repeated" | "map";

export interface FileNode {
  readonly path: string;
  readonly proto: FileDescriptorProto;
  readonly pkg: string;
  /** "proto2" | "proto3" | "editions" */
  readonly syntax: string;
  /**
   * Path of each map entry message -> path of the map field declaring it,
   * when the file has source info (see {@link locate}).
   */
  readonly mapEntries: Map<string, readonly number[]>;
}

export interface MessageNode {
  readonly fullName: string;
  readonly name: string;
  readonly proto: DescriptorProto;
  readonly file: FileNode;
  readonly parent: MessageNode | undefined;
  readonly path: readonly number[];
  readonly fields: FieldNode[];
  readonly byNumber: Map<number, FieldNode>;
  readonly isMapEntry: boolean;
  /** Inclusive ranges. */
  readonly reservedRanges: [number, number][];
  readonly reservedNames: Set<string>;
}

export interface FieldNode {
  readonly fullName: string;
  readonly name: string;
  readonly number: number;
  readonly proto: FieldDescriptorProto;
  readonly file: FileNode;
  /** Containing message; undefined for extensions declared at file level. */
  readonly message: MessageNode | undefined;
  /** Extendee full name (no leading dot) for extensions. */
  readonly extendee: string | undefined;
  readonly path: readonly number[];
  readonly typeName: string;
  /** Name of the (non-synthetic) oneof the field belongs to. */
  readonly oneof: string | undefined;
  readonly jsonName: string;
  /** Whether `oneof_index` is set (a real or a synthetic oneof). */
  readonly hasOneofIndex: boolean;
  /** Memoized resolved properties. */
  memo?: { kind: FieldKind | undefined; cardinality?: Cardinality };
}

export interface EnumValueNode {
  readonly name: string;
  readonly number: number;
  readonly path: readonly number[];
}

export interface EnumNode {
  readonly fullName: string;
  readonly name: string;
  readonly proto: EnumDescriptorProto;
  readonly file: FileNode;
  readonly parent: MessageNode | undefined;
  readonly path: readonly number[];
  readonly values: EnumValueNode[];
  readonly byNumber: Map<number, EnumValueNode[]>;
  readonly reservedRanges: [number, number][];
  readonly reservedNames: Set<string>;
}

export interface MethodNode {
  readonly name: string;
  readonly proto: MethodDescriptorProto;
  readonly path: readonly number[];
}

export interface ServiceNode {
  readonly fullName: string;
  readonly name: string;
  readonly file: FileNode;
  readonly path: readonly number[];
  readonly methods: Map<string, MethodNode>;
}

/** Everything the rules look at, keyed as Buf pairs elements. */
export interface SchemaIndex {
  readonly files: Map<string, FileNode>;
  readonly messages: Map<string, MessageNode>;
  readonly enums: Map<string, EnumNode>;
  readonly services: Map<string, ServiceNode>;
  /** extendee -> number -> extension */
  readonly extensions: Map<string, Map<number, FieldNode>>;
}

const MAX_DEPTH = 64;

const cache = new WeakMap<FileDescriptorSet, SchemaIndex>();

/**
 * Index a descriptor set. Results are cached per set object, so checking one
 * proposal against ten versions indexes each version once.
 */
export function indexSchema(fds: FileDescriptorSet): SchemaIndex {
  let index = cache.get(fds);
  if (index === undefined) {
    index = buildIndex(fds);
    cache.set(fds, index);
  }
  return index;
}

function buildIndex(fds: FileDescriptorSet): SchemaIndex {
  const index: SchemaIndex = { files: new Map(), messages: new Map(), enums: new Map(), services: new Map(), extensions: new Map() };
  for (const proto of fds.file) {
    const path = proto.name;
    if (index.files.has(path)) {
      throw new SchemaValidationError("DUPLICATE_FILE", `file "${path}" appears twice in the descriptor set`, { file: path });
    }
    const file: FileNode = { path, proto, pkg: proto.package, syntax: fileSyntax(proto), mapEntries: new Map() };
    index.files.set(path, file);
    const prefix = proto.package === "" ? "" : proto.package + ".";
    proto.messageType.forEach((m, i) => addMessage(index, file, undefined, m, prefix, [FilePath.messageType, i], 0));
    proto.enumType.forEach((e, i) => addEnum(index, file, undefined, e, prefix, [FilePath.enumType, i]));
    proto.extension.forEach((x, i) => addExtension(index, file, undefined, x, prefix, [FilePath.extension, i]));
    proto.service.forEach((s, i) => {
      const fullName = prefix + s.name;
      const path = [FilePath.service, i];
      const methods = new Map<string, MethodNode>();
      s.method.forEach((m, j) => {
        if (!methods.has(m.name)) methods.set(m.name, { name: m.name, proto: m, path: [...path, ServicePath.method, j] });
      });
      if (!index.services.has(fullName)) index.services.set(fullName, { fullName, name: s.name, file, path, methods });
    });
  }
  return index;
}

function fileSyntax(proto: FileDescriptorProto): string {
  if (proto.syntax === "proto3" || proto.syntax === "editions") return proto.syntax;
  return "proto2";
}

function addMessage(
  index: SchemaIndex,
  file: FileNode,
  parent: MessageNode | undefined,
  proto: DescriptorProto,
  prefix: string,
  path: number[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    throw new SchemaValidationError("TOO_DEEP", `message nesting deeper than ${MAX_DEPTH} levels in "${file.path}"`, { file: file.path });
  }
  const fullName = prefix + proto.name;
  const node: MessageNode = {
    fullName,
    name: proto.name,
    proto,
    file,
    parent,
    path,
    fields: [],
    byNumber: new Map(),
    isMapEntry: proto.options?.mapEntry === true,
    reservedRanges: proto.reservedRange.map((r) => [r.start, r.end - 1]),
    reservedNames: new Set(proto.reservedName),
  };
  if (!index.messages.has(fullName)) index.messages.set(fullName, node);
  const oneofNames = proto.oneofDecl.map((o) => o.name);
  proto.field.forEach((f, i) => {
    const hasOneofIndex = isSet(f, "oneofIndex");
    const inOneof = hasOneofIndex && !f.proto3Optional;
    const field = new Field(
      fullName + "." + f.name,
      f,
      file,
      node,
      undefined,
      path,
      MessagePath.field,
      i,
      inOneof ? (oneofNames[f.oneofIndex] ?? `#${f.oneofIndex}`) : undefined,
      hasOneofIndex,
    );
    node.fields.push(field);
    if (!node.byNumber.has(f.number)) node.byNumber.set(f.number, field);
  });
  if (hasSourceInfo(file.proto)) {
    proto.nestedType.forEach((m, i) => {
      if (m.options?.mapEntry !== true) return;
      const entryName = fullName + "." + m.name;
      const declaring = node.fields.find((f) => f.typeName === entryName);
      if (declaring !== undefined) file.mapEntries.set([...path, MessagePath.nestedType, i].join(","), declaring.path);
    });
  }
  const childPrefix = fullName + ".";
  proto.nestedType.forEach((m, i) => addMessage(index, file, node, m, childPrefix, [...path, MessagePath.nestedType, i], depth + 1));
  proto.enumType.forEach((e, i) => addEnum(index, file, node, e, childPrefix, [...path, MessagePath.enumType, i]));
  proto.extension.forEach((x, i) => addExtension(index, file, node, x, childPrefix, [...path, MessagePath.extension, i]));
}

function addEnum(index: SchemaIndex, file: FileNode, parent: MessageNode | undefined, proto: EnumDescriptorProto, prefix: string, path: number[]): void {
  const fullName = prefix + proto.name;
  const byNumber = new Map<number, EnumValueNode[]>();
  const values = proto.value.map((v, i) => {
    const value: EnumValueNode = { name: v.name, number: v.number, path: [...path, EnumPath.value, i] };
    const list = byNumber.get(v.number);
    if (list === undefined) byNumber.set(v.number, [value]);
    else list.push(value);
    return value;
  });
  if (!index.enums.has(fullName)) {
    index.enums.set(fullName, {
      fullName,
      name: proto.name,
      proto,
      file,
      parent,
      path,
      values,
      byNumber,
      reservedRanges: proto.reservedRange.map((r) => [r.start, r.end]),
      reservedNames: new Set(proto.reservedName),
    });
  }
}

function addExtension(index: SchemaIndex, file: FileNode, parent: MessageNode | undefined, f: FieldDescriptorProto, prefix: string, path: number[]): void {
  const extendee = trimDot(f.extendee);
  const field = new Field(
    prefix + f.name,
    f,
    file,
    parent,
    extendee,
    path.slice(0, -2),
    path[path.length - 2] ?? FilePath.extension,
    path[path.length - 1] ?? 0,
    undefined,
    false,
  );
  let byNumber = index.extensions.get(extendee);
  if (byNumber === undefined) {
    byNumber = new Map();
    index.extensions.set(extendee, byNumber);
  }
  if (!byNumber.has(f.number)) byNumber.set(f.number, field);
}

function hasSourceInfo(proto: FileDescriptorProto): boolean {
  return (proto.sourceCodeInfo?.location.length ?? 0) > 0;
}

// A file's source info is read the first time a rule reports something in
// it: most files of a large module have nothing to report. Locations are
// bucketed by their first two path elements (the top-level message, enum,
// service or extension they belong to), so a lookup scans one element's
// locations and building the buckets allocates no key per location.
type Location = SourceCodeInfo_Location;
const locationsByFile = new WeakMap<FileNode, Map<number, Location[]>>();

function bucketKey(path: readonly number[]): number {
  return path.length >= 2 ? (path[0] ?? 0) * 2 ** 27 + (path[1] ?? 0) : -1 - (path[0] ?? 0);
}

function locationsOf(file: FileNode): Map<number, Location[]> {
  let buckets = locationsByFile.get(file);
  if (buckets === undefined) {
    buckets = new Map();
    for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
      const key = bucketKey(loc.path);
      const bucket = buckets.get(key);
      if (bucket === undefined) buckets.set(key, [loc]);
      else bucket.push(loc);
    }
    locationsByFile.set(file, buckets);
  }
  return buckets;
}

/** The first location recorded for exactly `path` (with a full span), 1-based. */
function exactLocation(file: FileNode, path: readonly number[]): SourceLocation | undefined {
  for (const loc of locationsOf(file).get(bucketKey(path)) ?? []) {
    if (loc.span.length < 3 || loc.path.length !== path.length || !loc.path.every((p, i) => p === path[i])) continue;
    return { file: file.proto.name, line: (loc.span[0] ?? 0) + 1, column: (loc.span[1] ?? 0) + 1 };
  }
  return undefined;
}

/**
 * The source location of a descriptor path, 1-based, when the set carries
 * source info. Map entry messages are synthesized by the compiler and have no
 * source info of their own; like Buf, they (and their fields) are located at
 * the map field that declares them.
 */
export function locate(file: FileNode, path: readonly number[]): SourceLocation | undefined {
  const exact = exactLocation(file, path);
  if (exact !== undefined || file.mapEntries.size === 0) return exact;
  for (let n = path.length - 1; n >= 2; n--) {
    const declaring = file.mapEntries.get(path.slice(0, n).join(","));
    const loc = declaring === undefined ? undefined : exactLocation(file, declaring);
    if (loc !== undefined) return loc;
  }
  return undefined;
}

/** Whether a proto2 optional field of a descriptor message was set (protobuf-es keeps defaults on the prototype). */
function isSet(message: object, localName: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, localName) && (message as Record<string, unknown>)[localName] !== undefined;
}

export function trimDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

/** protoc's default json_name: drop underscores, upper-case the letter after each. */
export function defaultJsonName(name: string): string {
  let out = "";
  let upper = false;
  for (const ch of name) {
    if (ch === "_") {
      upper = true;
    } else if (upper) {
      out += ch.toUpperCase();
      upper = false;
    } else {
      out += ch;
    }
  }
  return out;
}

// A class rather than object literals: an index holds one per field, and the
// descriptor path is only needed when a violation is reported, so it is
// computed on demand instead of allocated for every field.
class Field implements FieldNode {
  readonly name: string;
  readonly number: number;
  readonly typeName: string;
  readonly jsonName: string;
  memo?: { kind: FieldKind | undefined; cardinality?: Cardinality };
  constructor(
    readonly fullName: string,
    readonly proto: FieldDescriptorProto,
    readonly file: FileNode,
    readonly message: MessageNode | undefined,
    readonly extendee: string | undefined,
    private readonly parentPath: readonly number[],
    private readonly tag: number,
    private readonly idx: number,
    readonly oneof: string | undefined,
    readonly hasOneofIndex: boolean,
  ) {
    this.name = proto.name;
    this.number = proto.number;
    this.typeName = trimDot(proto.typeName);
    this.jsonName = proto.jsonName !== "" ? proto.jsonName : defaultJsonName(proto.name);
  }
  get path(): readonly number[] {
    return [...this.parentPath, this.tag, this.idx];
  }
}

// --- resolved features ------------------------------------------------------

/** The resolved value of each feature the rules read; 0 is the enums' `*_UNKNOWN` (not set here). */
interface FeatureValues {
  fieldPresence: FeatureSet_FieldPresence;
  messageEncoding: FeatureSet_MessageEncoding;
  jsonFormat: FeatureSet_JsonFormat;
}

type FeatureName = keyof FeatureValues;

function messageChainFeature<N extends FeatureName>(message: MessageNode | undefined, name: N): FeatureValues[N] | undefined {
  for (let m = message; m !== undefined; m = m.parent) {
    const v = featureValue(m.proto.options?.features, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The feature's value when `features` sets it. */
function featureValue<N extends FeatureName>(features: FeatureSet | undefined, name: N): FeatureValues[N] | undefined {
  const v = features?.[name];
  return v === undefined || v === 0 ? undefined : (v as FeatureValues[N]);
}

/** The file's own setting, else the default of its syntax (proto2, proto3, or edition 2023 and later). */
function fileFeature<N extends FeatureName>(file: FileNode, name: N): FeatureValues[N] {
  const own = featureValue(file.proto.options?.features, name);
  if (own !== undefined) return own;
  const defaults: FeatureValues = {
    fieldPresence: file.syntax === "proto3" ? FeatureSet_FieldPresence.IMPLICIT : FeatureSet_FieldPresence.EXPLICIT,
    messageEncoding: FeatureSet_MessageEncoding.LENGTH_PREFIXED,
    jsonFormat: file.syntax === "proto2" ? FeatureSet_JsonFormat.LEGACY_BEST_EFFORT : FeatureSet_JsonFormat.ALLOW,
  };
  return defaults[name];
}

function resolveFieldFeature<N extends FeatureName>(field: FieldNode, name: N): FeatureValues[N] {
  if (field.file.syntax === "editions") {
    const resolved = featureValue(field.proto.options?.features, name) ?? messageChainFeature(field.message, name);
    if (resolved !== undefined) return resolved;
  }
  return fileFeature(field.file, name);
}

/** The JSON format of a message or an enum: its own feature, else its enclosing messages', else its file's. */
export function jsonFormat(file: FileNode, parent: MessageNode | undefined, own: FeatureSet | undefined): FeatureSet_JsonFormat {
  if (file.syntax === "editions") {
    const resolved = featureValue(own, "jsonFormat") ?? messageChainFeature(parent, "jsonFormat");
    if (resolved !== undefined) return resolved;
  }
  return fileFeature(file, "jsonFormat");
}

/** The protoreflect kind of a field: TYPE_MESSAGE with delimited encoding is a group. */
export function fieldKind(field: FieldNode): FieldKind | undefined {
  field.memo ??= { kind: computeKind(field) };
  return field.memo.kind;
}

function computeKind(field: FieldNode): FieldKind | undefined {
  const kind = kindByType[field.proto.type] as FieldKind | undefined;
  if (kind === "message" && field.file.syntax === "editions" && resolveFieldFeature(field, "messageEncoding") === FeatureSet_MessageEncoding.DELIMITED) {
    return "group";
  }
  return kind;
}

/** Buf's cardinality of a field (list, map, required, explicit or implicit presence). */
export function fieldCardinality(field: FieldNode, index: SchemaIndex): Cardinality {
  field.memo ??= { kind: computeKind(field) };
  field.memo.cardinality ??= computeCardinality(field, index);
  return field.memo.cardinality;
}

function computeCardinality(field: FieldNode, index: SchemaIndex): Cardinality {
  const p = field.proto;
  if (p.label === FieldDescriptorProto_Label.REPEATED) {
    if (p.type === FieldDescriptorProto_Type.MESSAGE && index.messages.get(field.typeName)?.isMapEntry === true) return "map";
    return "repeated";
  }
  if (p.label === FieldDescriptorProto_Label.REQUIRED) return "required";
  if (field.file.syntax === "editions" && resolveFieldFeature(field, "fieldPresence") === FeatureSet_FieldPresence.LEGACY_REQUIRED) return "required";
  return hasPresence(field) ? "optional with explicit presence" : "optional with implicit presence";
}

function hasPresence(field: FieldNode): boolean {
  const p = field.proto;
  const isMessage = p.type === FieldDescriptorProto_Type.MESSAGE || p.type === FieldDescriptorProto_Type.GROUP;
  if (isMessage || field.extendee !== undefined || field.oneof !== undefined || p.proto3Optional) return true;
  if (field.hasOneofIndex) return true;
  if (field.file.syntax === "proto3") return false;
  if (field.file.syntax === "proto2") return true;
  return resolveFieldFeature(field, "fieldPresence") !== FeatureSet_FieldPresence.IMPLICIT;
}

/**
 * A field is required when its label says so. Like Buf (MESSAGE_SAME_REQUIRED_FIELDS
 * reads the label), an editions field with `field_presence = LEGACY_REQUIRED`
 * is not counted here; its cardinality still reads "required".
 */
export function isRequired(field: FieldNode): boolean {
  return field.proto.label === FieldDescriptorProto_Label.REQUIRED;
}
