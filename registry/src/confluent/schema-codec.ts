import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { Registry } from "../service/registry.js";
import { ConfluentError, confluentCodes } from "./confluent-error.js";
import type { SchemaReference } from "./integer-ids.js";
import { compileProtoText, type ProtoSource } from "./proto-text-compile.js";
import { renderProtoFile } from "./proto-text-render.js";

/** A schema as Confluent's API carries it in a request body. */
export interface ConfluentSchemaBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

/** A Confluent schema turned into what the registry stores. */
export interface DecodedSchema {
  /** A self-contained binary FileDescriptorSet. */
  bytes: Uint8Array;
  /** The message the subject is about (see RegisterOptions.message). */
  message: string | null;
  references: SchemaReference[];
}

/** The name a text schema's file gets when the subject gives none (Confluent's text carries no file name). */
export const DEFAULT_FILE_NAME = "schema.proto";

const WELL_KNOWN = ["any", "api", "duration", "empty", "field_mask", "source_context", "struct", "timestamp", "type", "wrappers", "descriptor"].map(
  (n) => `google/protobuf/${n}.proto`,
);
let wellKnown: Promise<Map<string, FileDescriptorProto>> | undefined;

/** Buf's own descriptors of the well-known types, compiled once per process, so both input forms give the same files. */
function wellKnownFiles(): Promise<Map<string, FileDescriptorProto>> {
  return (wellKnown ??= compileProtoText({ name: "wkt.proto", text: `syntax = "proto3";\n${WELL_KNOWN.map((n) => `import "${n}";`).join("\n")}\n` }, [])
    .then((bytes) => new Map(fromBinary(FileDescriptorSetSchema, bytes).file.map((f) => [f.name, f] as const)))
    .catch((err: unknown) => {
      wellKnown = undefined;
      throw err;
    }));
}

function invalid(message: string): ConfluentError {
  return new ConfluentError(422, confluentCodes.invalidSchema, message);
}

/** The file of a set that no other file imports (the last such in the set's order): the schema's own file. */
export function rootFile(set: FileDescriptorSet): FileDescriptorProto {
  const imported = new Set(set.file.flatMap((f) => f.dependency));
  return set.file.findLast((f) => !imported.has(f.name)) ?? set.file[set.file.length - 1]!;
}

function checkReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("references must be an array of { name, subject, version }");
  return value.map((r: unknown, i) => {
    const ref = (r ?? {}) as Record<string, unknown>;
    if (typeof ref["name"] !== "string" || typeof ref["subject"] !== "string" || typeof ref["version"] !== "number" || !Number.isInteger(ref["version"])) {
      throw invalid(`reference ${i + 1} must have a string name, a string subject and an integer version`);
    }
    return { name: ref["name"], subject: ref["subject"], version: ref["version"] };
  });
}

/** Files the references name, with every file they import: each reference's stored set, its own file renamed to the reference's name. */
function referencedFiles(registry: Registry, references: readonly SchemaReference[]): Map<string, FileDescriptorProto> {
  const files = new Map<string, FileDescriptorProto>();
  for (const ref of references) {
    const stored = ref.version === -1 ? registry.getLatestVersion(ref.subject) : registry.getVersion(ref.subject, ref.version);
    const set = fromBinary(FileDescriptorSetSchema, stored.schema);
    const root = rootFile(set);
    for (const f of set.file) files.set(f === root ? ref.name : f.name, f === root ? { ...root, name: ref.name } : f);
  }
  return files;
}

function firstMessage(file: FileDescriptorProto, subject: string): string | null {
  const names = file.messageType.map((m) => (file.package ? `${file.package}.${m.name}` : m.name));
  if (names.includes(subject)) return subject;
  return names[0] ?? null;
}

/** Whether a schema string is base64 (a serialized FileDescriptorProto) rather than `.proto` text, which always has spaces or punctuation. */
function isBase64(schema: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(schema.trim());
}

/**
 * Turns a Confluent request's schema into a self-contained FileDescriptorSet
 * for `subject`: `.proto` text compiled by buf, or a base64 serialized
 * FileDescriptorProto (what Confluent's serializers send), with the files
 * its references name and the well-known types it imports. The schema's
 * own file is named `fileName` when the subject has one already (the name
 * of its latest version's file: Confluent's schema identity has no file
 * name, so the same schema sent as text or as a descriptor is one version),
 * else by the descriptor's own name, or {@link DEFAULT_FILE_NAME} for text.
 * Throws 422/42201 for anything that is not a Protobuf schema.
 */
export async function decodeConfluentSchema(
  registry: Registry,
  subject: string,
  body: ConfluentSchemaBody,
  fileName: string | undefined,
): Promise<DecodedSchema> {
  const type = body.schemaType ?? "AVRO";
  if (type !== "PROTOBUF")
    throw invalid(`schemaType ${JSON.stringify(type)} is not supported: this registry holds Protobuf schemas only (schemaType "PROTOBUF")`);
  if (typeof body.schema !== "string" || body.schema.trim() === "") throw invalid("schema is required: .proto text or a base64 FileDescriptorProto");
  if (body.schema.length > registry.maxSchemaBytes * 2)
    throw invalid(`schema is ${body.schema.length} characters; the limit is ${registry.maxSchemaBytes * 2}`);
  const references = checkReferences(body.references);
  const deps = referencedFiles(registry, references);
  let set: FileDescriptorSet;
  let main: string;
  if (isBase64(body.schema)) {
    let file: FileDescriptorProto;
    try {
      file = fromBinary(FileDescriptorProtoSchema, Buffer.from(body.schema, "base64"));
    } catch (err) {
      throw invalid(`schema is neither .proto text nor a base64 FileDescriptorProto: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (file.name === "") throw invalid("the base64 FileDescriptorProto has no name");
    if (fileName !== undefined) file.name = fileName;
    const known = await wellKnownFiles();
    const files = new Map(deps);
    const add = (name: string) => {
      if (files.has(name)) return;
      const wkt = known.get(name);
      if (!wkt) throw invalid(`schema imports ${name}, which no reference names`);
      files.set(name, wkt);
      wkt.dependency.forEach(add);
    };
    file.dependency.forEach(add);
    files.delete(file.name);
    set = { $typeName: "google.protobuf.FileDescriptorSet", file: [...files.values(), file] };
    main = file.name;
  } else {
    const depSet: FileDescriptorSet = { $typeName: "google.protobuf.FileDescriptorSet", file: [...deps.values()] };
    const imports: ProtoSource[] = [...deps.values()]
      .filter((f) => !f.name.startsWith("google/protobuf/"))
      .map((f) => ({ name: f.name, text: renderProtoFile(f, depSet) }));
    main = fileName ?? DEFAULT_FILE_NAME;
    set = fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: main, text: body.schema }, imports));
  }
  const mainFile = set.file.find((f) => f.name === main)!;
  return { bytes: toBinary(FileDescriptorSetSchema, set), message: firstMessage(mainFile, subject), references };
}

/**
 * A stored schema as Confluent's API answers it: the `.proto` text of its
 * own file, or with `format=serialized` the file as a base64 serialized
 * FileDescriptorProto (what Confluent's deserializers ask for).
 */
export function encodeConfluentSchema(stored: Uint8Array, format: string | null): string {
  const set = fromBinary(FileDescriptorSetSchema, stored);
  const root = rootFile(set);
  if (format === "serialized") return Buffer.from(toBinary(FileDescriptorProtoSchema, root)).toString("base64");
  return renderProtoFile(root, set);
}
