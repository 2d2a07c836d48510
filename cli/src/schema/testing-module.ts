// Test and benchmark helper: the .proto files of a generated buf module of
// any size, in two versions, for timing `chronicle schema check` beside
// `buf breaking`. Not exported from the package.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Shape of a generated module. */
export interface GeneratedModuleOptions {
  /** Number of .proto files. */
  files: number;
  /** Messages per file. */
  perFile: number;
  /**
   * 1 for the base version. Later versions add a field to every 10th
   * message (compatible) and change the type of one field in the middle
   * message of the first file (incompatible).
   */
  version: number;
}

/** Package of the generated messages. */
export const GENERATED_PACKAGE = "big.v1";

/**
 * The files of the module, by path under its root: `big/v1/f<i>.proto`,
 * message `M<n>` numbered across files. Each message references the next
 * one in its file, and from the second file on the message at the same
 * place in the previous file (which the file imports), so subjects reach
 * long chains of messages within and across files.
 */
export function generatedModule(options: GeneratedModuleOptions): Map<string, string> {
  const out = new Map<string, string>();
  const changed = Math.floor(options.perFile / 2);
  for (let f = 0; f < options.files; f++) {
    const lines = ['syntax = "proto3";', `package ${GENERATED_PACKAGE};`];
    if (f > 0) lines.push(`import "big/v1/f${f - 1}.proto";`);
    for (let i = 0; i < options.perFile; i++) {
      const n = f * options.perFile + i;
      const amount = options.version > 1 && n === changed ? "string" : "int64";
      lines.push("", `message M${n} {`, "  string id = 1;", `  ${amount} amount = 2;`, "  repeated string tags = 3;");
      if (i + 1 < options.perFile) lines.push(`  M${n + 1} next = 4;`);
      if (f > 0) lines.push(`  M${n - options.perFile} previous = 5;`);
      if (options.version > 1 && n % 10 === 0) lines.push(`  string note_v${options.version} = 6;`);
      lines.push("}");
    }
    out.set(`big/v1/f${f}.proto`, `${lines.join("\n")}\n`);
  }
  return out;
}

/**
 * Writes a buf v2 project of the generated module into `dir` (`buf.yaml` and
 * `proto/`), replacing the protos of an earlier version.
 */
export function writeGeneratedModule(dir: string, options: GeneratedModuleOptions): void {
  rmSync(join(dir, "proto"), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n");
  for (const [path, text] of generatedModule(options)) {
    const file = join(dir, "proto", path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
