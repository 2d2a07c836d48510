import type { DescFile, DescMessage } from "@bufbuild/protobuf";
import type { Diagnostic, SourceLocation } from "./types.js";

/** Prints a diagnostic the way compilers do: `path/to/file.proto:LINE:COLUMN: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

/** Source path of a message inside its file (`[4, i]`, nested `[4, i, 3, j]`). @private */
export function messagePath(desc: DescMessage): number[] {
  if (desc.parent) return [...messagePath(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)];
  return [4, desc.file.proto.messageType.indexOf(desc.proto)];
}

/**
 * Finds the location of the longest prefix of `path` recorded in the file's
 * source info (an option's field, else the option, else the element), or
 * line 1 column 1 when the descriptors carry no source info. @private
 */
export function locate(file: DescFile, path: readonly number[]): SourceLocation {
  const locations = file.proto.sourceCodeInfo?.location ?? [];
  for (let n = path.length; n > 0; n--) {
    const want = path.slice(0, n);
    const found = locations.find((l) => l.path.length === want.length && l.path.every((p, i) => p === want[i]));
    if (found && found.span.length >= 2) return { file: file.proto.name, line: found.span[0]! + 1, column: found.span[1]! + 1 };
  }
  return { file: file.proto.name, line: 1, column: 1 };
}

/** Compares diagnostics by file, line and column, for a stable order. @private */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message);
}
