import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, type DescFile } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema, type CodeGeneratorRequest, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";

/** chronicle/v1/options.proto as shipped in this package. @private */
export const OPTIONS_PROTO_PATH = join(dirname(fileURLToPath(import.meta.url)), "../../proto/chronicle/v1/options.proto");

/** Result of {@link compileProtos}. @private */
export interface CompiledProtos {
  image: FileDescriptorSet;
  /** Files of the image, imports included. */
  files: DescFile[];
  /** A CodeGeneratorRequest asking to generate the given files, as buf would send it. */
  request(parameter?: string): CodeGeneratorRequest;
}

/**
 * Test helper: compiles inline `.proto` sources (file name to text) with the
 * buf CLI from npm, beside chronicle/v1/options.proto, and returns the image.
 * Throws with buf's output when they do not compile. @private
 */
export function compileProtos(sources: Record<string, string>): CompiledProtos {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-protos-"));
  try {
    writeFileSync(join(dir, "buf.yaml"), "version: v2\n");
    mkdirSync(join(dir, "chronicle/v1"), { recursive: true });
    writeFileSync(join(dir, "chronicle/v1/options.proto"), readFileSync(OPTIONS_PROTO_PATH));
    for (const [name, text] of Object.entries(sources)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const launcher = createRequire(import.meta.url).resolve("@bufbuild/buf/bin/buf");
    const r = spawnSync(process.execPath, [launcher, "build", ".", "-o", "-#format=binpb"], { cwd: dir, maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`buf build failed:\n${r.stderr.toString()}`);
    const image = fromBinary(FileDescriptorSetSchema, r.stdout);
    const registry = createFileRegistry(image);
    const files = image.file.map((f) => registry.getFile(f.name)!);
    return {
      image,
      files,
      request: (parameter = "target=ts") =>
        create(CodeGeneratorRequestSchema, {
          fileToGenerate: Object.keys(sources),
          parameter,
          protoFile: image.file,
          sourceFileDescriptors: image.file.filter((f) => f.name in sources),
        }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
