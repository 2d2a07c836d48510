import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { create, createFileRegistry, fromBinary, hasOption, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { FileDescriptorSetSchema, type FileDescriptorProto, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { event as eventOption } from "@chronicle/codegen/model";
import { ChronicleError, isChronicleError } from "@chronicle/runtime/errors";
import { UsageError } from "../framework/command.js";
import { loadProject, modulePaths } from "../project/load-project.js";
import { extractGitTree } from "./git-tree.js";
import type { SchemaSide } from "./types.js";

/** Buf's image extension on each FileDescriptorProto (`buf.alpha.image.v1.ImageFileExtension`, field 8042). */
const BUF_IMAGE_EXTENSION = 8042;

/** True when buf marked the file as an import (a dependency, not a file of the workspace). */
function isBufImport(file: FileDescriptorProto): boolean {
  for (const u of file.$unknown ?? []) {
    if (u.no !== BUF_IMAGE_EXTENSION || u.wireType !== WireType.LengthDelimited) continue;
    try {
      const ext = new BinaryReader(new BinaryReader(u.data).bytes());
      while (ext.pos < ext.len) {
        const [no, wt] = ext.tag();
        if (no === 1 && wt === WireType.Varint) return ext.bool();
        ext.skip(wt);
      }
    } catch {
      return false;
    }
  }
  return false;
}

/** Chronicle's and Google's own protos, which a project vendors or imports but does not own. */
function isPlatformFile(name: string): boolean {
  return name.startsWith("google/protobuf/") || name === "chronicle/v1/options.proto";
}

function messagesOf(registry: FileRegistry, image: FileDescriptorSet): { events: string[]; messages: string[]; packages: Set<string>; files: Set<string> } {
  const own = new Set(image.file.filter((f) => !isBufImport(f) && !isPlatformFile(f.name)).map((f) => f.name));
  const events: string[] = [];
  const messages: string[] = [];
  const packages = new Set<string>();
  const walk = (list: readonly DescMessage[]) => {
    for (const m of list) {
      if (hasOption(m, eventOption)) events.push(m.typeName);
      messages.push(m.typeName);
      walk(m.nestedMessages);
    }
  };
  for (const file of registry.files) {
    if (!own.has(file.proto.name)) continue;
    packages.add(file.proto.package);
    walk(file.messages);
  }
  return { events: events.sort(), messages: messages.sort(), packages, files: own };
}

function side(label: string, image: FileDescriptorSet, localPath: (file: string) => string | undefined): SchemaSide {
  let registry: FileRegistry;
  try {
    registry = createFileRegistry(image);
  } catch (err) {
    throw new UsageError(`${label}: the descriptors are not self-contained: ${(err as Error).message}`);
  }
  return { label, image, registry, ...messagesOf(registry, image), localPath };
}

/**
 * Maps the image's file names to where they lie in `localDir`, found by
 * looking in `lookDir` (the same folder, or the extracted tree of a git ref,
 * which is removed afterwards: so the mapping is computed now).
 */
function pathMapper(image: FileDescriptorSet, lookDir: string, localDir: string): (file: string) => string | undefined {
  const roots = modulePaths(lookDir);
  const paths = new Map<string, string>();
  for (const { name } of image.file) {
    const root = roots.find((m) => existsSync(join(lookDir, m, name)));
    if (root !== undefined) paths.set(name, join(localDir, root, name));
  }
  return (file) => paths.get(file);
}

/**
 * Builds the project in `dir` (working tree) with buf from npm through
 * `loadProject`, so invalid Chronicle options fail here as they do in
 * codegen. Throws `ChronicleError` (`invalid_argument`) with buf's errors
 * when the protos do not compile.
 */
export async function workingTreeSide(dir: string): Promise<SchemaSide> {
  const root = resolve(dir);
  const { image } = await loadProject(root);
  return side("working tree", image, pathMapper(image, root, root));
}

/**
 * Builds the project folder as it was at git `ref` (extracted to a
 * temporary folder, built there, removed), with module folders git ignores
 * (the installed Chronicle options) taken from the working tree. A folder
 * that did not exist at the ref is an empty side (every event is new) whose
 * label says so; one that existed without a buf.yaml is a usage error.
 */
export async function gitRefSide(dir: string, ref: string): Promise<SchemaSide> {
  const root = resolve(dir);
  using tree = await extractGitTree(root, ref);
  const label = `git ${ref} (${tree.commit.slice(0, 7)})`;
  if (!tree.projectDir) return side(`${label}, where ${tree.relativeDir} did not exist`, create(FileDescriptorSetSchema), () => undefined);
  try {
    const { image } = await loadProject(tree.projectDir);
    return side(label, image, pathMapper(image, tree.projectDir, root));
  } catch (err) {
    if (isChronicleError(err)) {
      const detail = err.message.replaceAll(tree.projectDir, `${root} at ${ref}`);
      throw new ChronicleError(err.code, `cannot build ${label}: ${detail}`, { context: { ref, commit: tree.commit } });
    }
    throw err;
  }
}

/** Reads an image written by `buf build -o FILE` (binary FileDescriptorSet, `.binpb`/`.bin`). */
export function imageFileSide(cwd: string, file: string): SchemaSide {
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--against-image ${file}: no such file`);
  let image: FileDescriptorSet;
  try {
    image = fromBinary(FileDescriptorSetSchema, readFileSync(path));
  } catch (err) {
    throw new UsageError(`--against-image ${file} is not a binary image (buf build -o FILE.binpb): ${(err as Error).message}`);
  }
  if (image.file.length === 0) throw new UsageError(`--against-image ${file} holds no files; write it with "buf build -o ${file}"`);
  return side(`image ${file}`, image, () => undefined);
}
