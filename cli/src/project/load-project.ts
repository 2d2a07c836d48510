import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { buildEventModel, formatDiagnostic, type Diagnostic, type StreamModel } from "@chronicle/codegen/model";
import { ChronicleError, ErrorCode } from "@chronicle/runtime/errors";
import { buildImage } from "./buf.js";

/** A compiled Chronicle project: its streams, a registry of its descriptors, and the image buf built. */
export interface Project {
  /** Streams and their events, read from the `(chronicle.v1.*)` options. */
  streams: StreamModel[];
  /** Every file of the image (imports included), for decoding and lookups. */
  registry: FileRegistry;
  /** The image as buf built it: self-contained, with source info. */
  image: FileDescriptorSet;
}

/** True when `dir` holds a buf workspace or module configuration (buf.yaml, or a v1 buf.work.yaml). */
export function hasBufWorkspace(dir: string): boolean {
  return existsSync(join(dir, "buf.yaml")) || existsSync(join(dir, "buf.work.yaml"));
}

/**
 * Throws a `ChronicleError` (`invalid_argument`) unless `root` is a folder
 * with a buf.yaml: every command's project folder must be one, or buf
 * would compile whatever `.proto` files lie around (or a parent's
 * workspace) and answer for the wrong project.
 */
export function requireProjectFolder(root: string): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `${root} is not a folder; run this in a Chronicle project (see "chronicle init"), or pass -C/--dir`, {
      context: { path: root },
    });
  }
  if (!hasBufWorkspace(root)) {
    throw new ChronicleError(
      ErrorCode.InvalidArgument,
      `${root} has no buf.yaml: run this in the project folder (the one with buf.yaml), pass it with -C/--dir, or create a project with "chronicle init"`,
      { context: { path: root } },
    );
  }
}

/** Module folders of a buf.yaml (v2 `modules[].path`), `["."]` when it names none. @private */
export function modulePaths(dir: string): string[] {
  const file = join(dir, "buf.yaml");
  if (!existsSync(file)) return ["."];
  const paths = [...readFileSync(file, "utf8").matchAll(/^\s*-?\s*path:\s*["']?([^"'\s#]+)/gm)].map((m) => m[1]!);
  return paths.length ? paths : ["."];
}

/** Rewrites a diagnostic's module-relative file name to a path relative to the project folder. */
function projectRelative(dir: string, modules: string[], d: Diagnostic): Diagnostic {
  for (const m of modules) {
    if (existsSync(join(dir, m, d.file))) return { ...d, file: m === "." ? d.file : join(m, d.file) };
  }
  return d;
}

/**
 * Compiles the buf module or workspace in `dir` with the buf CLI installed
 * from npm (`buf build`), and reads Chronicle's options into the event model.
 *
 * Throws a `ChronicleError` with code `invalid_argument` when the folder is
 * not a buf project (no buf.yaml), the protos do not compile, or an option is invalid; the
 * message lists each problem as `path/to/file.proto:LINE:COLUMN: message`,
 * with paths relative to `dir`.
 */
export async function loadProject(dir: string): Promise<Project> {
  const root = resolve(dir);
  requireProjectFolder(root);
  const built = await buildImage(root);
  if (built.code !== 0) {
    const detail = built.stderr.trim() || `buf exited with code ${built.code}`;
    throw new ChronicleError(ErrorCode.InvalidArgument, `the protos in ${root} do not compile:\n${detail}`, { context: { path: root } });
  }
  const image = fromBinary(FileDescriptorSetSchema, built.stdout);
  const registry = createFileRegistry(image);
  const { streams, diagnostics } = buildEventModel([...registry.files]);
  if (diagnostics.length) {
    const modules = modulePaths(root);
    const lines = diagnostics.map((d) => formatDiagnostic(projectRelative(root, modules, d)));
    throw new ChronicleError(ErrorCode.InvalidArgument, `invalid Chronicle options in ${root}:\n${lines.join("\n")}`, {
      context: { path: root, diagnostics: diagnostics.length },
    });
  }
  return { streams, registry, image };
}
