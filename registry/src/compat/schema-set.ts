import { createHash } from "node:crypto";
import { clone, create, createFileRegistry, toBinary } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { SchemaValidationError } from "./errors.js";
import { defaultJsonName, indexSchema } from "./model.js";

/**
 * Check that a descriptor set can be registered: not empty, no file twice,
 * every import present in the set (well-known types included), no type
 * declared twice, every type reference resolvable.
 *
 * @throws SchemaValidationError with a `reason` (the service maps it to InvalidArgument).
 */
export function validateSchemaSet(fds: FileDescriptorSet): void {
  if (fds.file.length === 0) throw new SchemaValidationError("EMPTY_SCHEMA", "the descriptor set has no files");
  const names = new Set<string>();
  for (const f of fds.file) {
    if (names.has(f.name)) throw new SchemaValidationError("DUPLICATE_FILE", `file "${f.name}" appears twice in the descriptor set`, { file: f.name });
    names.add(f.name);
  }
  for (const f of fds.file) {
    for (const dep of f.dependency) {
      if (!names.has(dep)) {
        throw new SchemaValidationError(
          "UNRESOLVED_IMPORT",
          `file "${f.name}" imports "${dep}", which is not in the descriptor set; build it with imports included (buf build includes them by default)`,
          { file: f.name, element: dep },
        );
      }
    }
  }
  const declared = new Map<string, string>();
  const declare = (name: string, file: string): void => {
    const other = declared.get(name);
    if (other !== undefined) {
      throw new SchemaValidationError("DUPLICATE_NAME", `"${name}" is declared in both "${other}" and "${file}"`, { file, element: name });
    }
    declared.set(name, file);
  };
  for (const f of fds.file) {
    const walk = (prefix: string, messages: readonly DescriptorProto[], depth: number): void => {
      if (depth > 64) throw new SchemaValidationError("TOO_DEEP", `message nesting deeper than 64 levels in "${f.name}"`, { file: f.name });
      for (const m of messages) {
        const name = prefix + m.name;
        declare(name, f.name);
        for (const e of m.enumType) declare(`${name}.${e.name}`, f.name);
        walk(name + ".", m.nestedType, depth + 1);
      }
    };
    const prefix = f.package === "" ? "" : f.package + ".";
    for (const e of f.enumType) declare(prefix + e.name, f.name);
    walk(prefix, f.messageType, 0);
  }
  try {
    createFileRegistry(fds);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const reason = /not found|unable to resolve|cannot find/i.test(text) ? "UNRESOLVED_TYPE" : "INVALID_DESCRIPTOR";
    throw new SchemaValidationError(reason, `the descriptor set is not valid: ${text}`, { cause: e });
  }
}

/**
 * A canonical copy of a descriptor set, so that equal schemas hash equal:
 * files in dependency order (imports first, ties by name), source info and
 * unknown fields (such as Buf image extensions) dropped, every field's
 * `json_name` filled with protoc's default where it was empty.
 * The input is not modified.
 */
export function normalizeSchema(fds: FileDescriptorSet): FileDescriptorSet {
  const out = create(FileDescriptorSetSchema);
  out.file = dependencyOrder(fds.file).map(normalizeFile);
  if (fds.$unknown !== undefined) out.$unknown = fds.$unknown.map((u) => ({ ...u, data: u.data.slice() }));
  return out;
}

/**
 * The content id of a schema: `sha256:` and the hex SHA-256 of the
 * deterministic binary encoding of {@link normalizeSchema}'s result.
 * Stable across processes and machines; the same id means the same schema.
 */
export function schemaId(fds: FileDescriptorSet): string {
  return hashSet(fds.file, fds.$unknown, encodeNormalizedFile);
}

/**
 * The self-contained part of `fds` that one event needs: the file declaring
 * `messageFullName` and every file it imports, transitively (so its field
 * types, well-known types included, resolve). Files keep their input order.
 *
 * The result is a view, not a copy: it holds the same file descriptors as
 * `fds` (so extracting every message of a large image costs no copying), and
 * neither set may be modified while the other is in use.
 *
 * @throws SchemaValidationError (`SUBJECT_NOT_FOUND`) when no file declares the message.
 */
export function extractSubjectSchema(fds: FileDescriptorSet, messageFullName: string): FileDescriptorSet {
  return subjectView(fds, declaringFile(fds, messageFullName));
}

/**
 * The subjects of one image, each subject's schema and id computed once per
 * declaring file rather than once per message: {@link schemaOf} returns the
 * same view for every message of a file (so the engine indexes it once), and
 * {@link idOf} normalises and encodes each file of the image at most once.
 * Checking every message of an image therefore costs time in proportion to
 * the image, not to its messages times its size.
 *
 * The image must not be modified while this is in use.
 */
export interface SubjectSchemas {
  /** The image the subjects come from. */
  readonly image: FileDescriptorSet;
  /** Whether a file of the image declares the message. */
  declares(messageFullName: string): boolean;
  /**
   * {@link extractSubjectSchema} of the message, the same object for every
   * message of one file. @throws SchemaValidationError (`SUBJECT_NOT_FOUND`).
   */
  schemaOf(messageFullName: string): FileDescriptorSet;
  /** {@link schemaId} of {@link schemaOf}. @throws SchemaValidationError. */
  idOf(messageFullName: string): string;
}

/** Subject schemas and ids of `image`, computed once per declaring file; see {@link SubjectSchemas}. */
export function subjectSchemas(image: FileDescriptorSet): SubjectSchemas {
  const views = new Map<string, FileDescriptorSet>();
  const ids = new Map<string, string>();
  const encoded = new Map<FileDescriptorProto, Uint8Array>();
  const encode = (file: FileDescriptorProto): Uint8Array => {
    let bytes = encoded.get(file);
    if (bytes === undefined) {
      bytes = encodeNormalizedFile(file);
      encoded.set(file, bytes);
    }
    return bytes;
  };
  const schemaOf = (messageFullName: string): FileDescriptorSet => {
    const file = declaringFile(image, messageFullName);
    let view = views.get(file);
    if (view === undefined) {
      view = subjectView(image, file);
      views.set(file, view);
    }
    return view;
  };
  return {
    image,
    declares: (messageFullName) => indexSchema(image).messages.has(messageFullName),
    schemaOf,
    idOf(messageFullName) {
      const file = declaringFile(image, messageFullName);
      let id = ids.get(file);
      if (id === undefined) {
        const view = schemaOf(messageFullName);
        id = hashSet(view.file, view.$unknown, encode);
        ids.set(file, id);
      }
      return id;
    },
  };
}

function declaringFile(fds: FileDescriptorSet, messageFullName: string): string {
  const message = indexSchema(fds).messages.get(messageFullName);
  if (message === undefined) {
    throw new SchemaValidationError("SUBJECT_NOT_FOUND", `message "${messageFullName}" is not declared in the descriptor set`, { element: messageFullName });
  }
  return message.file.path;
}

/** The files `file` needs (itself and its imports, transitively), in input order, sharing the descriptors of `fds`. */
function subjectView(fds: FileDescriptorSet, file: string): FileDescriptorSet {
  const byName = new Map(fds.file.map((f) => [f.name, f]));
  const needed = new Set<string>();
  const stack = [file];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    if (needed.has(name)) continue;
    needed.add(name);
    for (const dep of byName.get(name)?.dependency ?? []) stack.push(dep);
  }
  const view = create(FileDescriptorSetSchema);
  view.file = fds.file.filter((f) => needed.has(f.name));
  if (fds.$unknown !== undefined) view.$unknown = fds.$unknown;
  return view;
}

/** The files in normalised order: each name once (its first occurrence), imports before importers, ties by name. */
function dependencyOrder(files: readonly FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map<string, FileDescriptorProto>();
  for (const f of files) if (!byName.has(f.name)) byName.set(f.name, f);
  const ordered: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (name: string): void => {
    const f = byName.get(name);
    if (f === undefined || done.has(name)) return;
    done.add(name);
    for (const dep of [...f.dependency].sort()) visit(dep);
    ordered.push(f);
  };
  for (const name of [...byName.keys()].sort()) visit(name);
  return ordered;
}

/**
 * The SHA-256 of the binary FileDescriptorSet holding the normalised
 * `files` and then `unknown`: the bytes `toBinary` writes for that set (each
 * file as field 1, length-delimited, then the set's unknown fields), put
 * together from each file's own encoding so that a caller can encode each
 * file once and hash many sets of them.
 */
function hashSet(files: readonly FileDescriptorProto[], unknown: FileDescriptorSet["$unknown"], encode: (file: FileDescriptorProto) => Uint8Array): string {
  const hash = createHash("sha256");
  for (const file of dependencyOrder(files)) {
    const bytes = encode(file);
    hash.update(new BinaryWriter().tag(FILE_FIELD, WireType.LengthDelimited).uint32(bytes.length).finish());
    hash.update(bytes);
  }
  for (const { no, wireType, data } of unknown ?? []) hash.update(new BinaryWriter().tag(no, wireType).raw(data).finish());
  return `sha256:${hash.digest("hex")}`;
}

/** `FileDescriptorSet.file`. */
const FILE_FIELD = FileDescriptorSetSchema.field.file.number;

/** A normalised copy of one file: no source info, no unknown fields of the file, every json_name filled. */
function normalizeFile(file: FileDescriptorProto): FileDescriptorProto {
  let copy: FileDescriptorProto;
  try {
    copy = clone(FileDescriptorProtoSchema, file);
  } catch (e) {
    // Only sets built in code can get here (e.g. a value of the wrong type).
    throw new SchemaValidationError("INVALID_DESCRIPTOR", `the descriptor set holds invalid values: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  copy.sourceCodeInfo = undefined;
  delete copy.$unknown;
  for (const x of copy.extension) fillJsonName(x);
  forEachMessage(copy.messageType, (m) => {
    for (const field of m.field) fillJsonName(field);
    for (const x of m.extension) fillJsonName(x);
  });
  return copy;
}

/**
 * The binary encoding of {@link normalizeFile}'s result. A file whose fields
 * all carry a json_name (as every file buf or protoc compiles does) needs no
 * copy of its messages: a shallow copy without source info and unknown
 * fields encodes to the same bytes, at a fraction of the cost of cloning
 * the source info of a large file.
 */
function encodeNormalizedFile(file: FileDescriptorProto): Uint8Array {
  try {
    return toBinary(FileDescriptorProtoSchema, hasEmptyJsonName(file) ? normalizeFile(file) : withoutSourceInfo(file));
  } catch (e) {
    if (e instanceof SchemaValidationError) throw e;
    // Only sets built in code can get here (e.g. an enum value outside a closed enum).
    throw new SchemaValidationError("INVALID_DESCRIPTOR", `the descriptor set cannot be serialized: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/** A new FileDescriptorProto sharing every field of `file` but its source info (and without its unknown fields). */
function withoutSourceInfo(file: FileDescriptorProto): FileDescriptorProto {
  const target = create(FileDescriptorProtoSchema);
  const source = reflect(FileDescriptorProtoSchema, file);
  const copy = reflect(FileDescriptorProtoSchema, target);
  for (const field of FileDescriptorProtoSchema.fields) {
    if (field !== SOURCE_CODE_INFO && source.isSet(field)) copy.set(field, source.get(field));
  }
  return target;
}

/** `FileDescriptorProto.source_code_info`. */
const SOURCE_CODE_INFO = FileDescriptorProtoSchema.field.sourceCodeInfo;

/** Whether a field or extension of the file has no json_name (normalisation fills it). */
function hasEmptyJsonName(file: FileDescriptorProto): boolean {
  let empty = file.extension.some((x) => x.jsonName === "");
  forEachMessage(file.messageType, (m) => {
    empty ||= m.field.some((f) => f.jsonName === "") || m.extension.some((x) => x.jsonName === "");
  });
  return empty;
}

function fillJsonName(field: FieldDescriptorProto): void {
  if (field.jsonName === "") field.jsonName = defaultJsonName(field.name);
}

function forEachMessage(messages: readonly DescriptorProto[], fn: (m: DescriptorProto) => void, depth = 0): void {
  if (depth > 64) return;
  for (const m of messages) {
    fn(m);
    forEachMessage(m.nestedType, fn, depth + 1);
  }
}
