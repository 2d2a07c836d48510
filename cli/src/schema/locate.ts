import type { DescEnum, DescField, DescFile, DescMessage, FileRegistry } from "@bufbuild/protobuf";
import type { SchemaSide, ReportLocation } from "./types.js";

type Element = DescMessage | DescEnum | DescField | DescFile;

/** The source path of a message or enum (`[4, i]`, nested `[4, i, 3, j]`, enums `[5, i]` / `[..., 4, j]`). */
function sourcePath(desc: Element): number[] {
  switch (desc.kind) {
    case "file":
      return [];
    case "message":
      return desc.parent
        ? [...sourcePath(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)]
        : [4, desc.file.proto.messageType.indexOf(desc.proto)];
    case "enum":
      return desc.parent ? [...sourcePath(desc.parent), 4, desc.parent.proto.enumType.indexOf(desc.proto)] : [5, desc.file.proto.enumType.indexOf(desc.proto)];
    case "field":
      return [...sourcePath(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
  }
}

function fileOf(desc: Element): DescFile {
  return desc.kind === "file" ? desc : desc.kind === "field" ? desc.parent.file : desc.file;
}

/** Finds the element a violation path names (`pkg.Message.field`, `pkg.Enum.VALUE`, `pkg.Message`), or its nearest ancestor. */
function findElement(registry: FileRegistry, path: string): { desc: Element; extra: number[] } | undefined {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join(".");
    const message = registry.getMessage(name);
    if (message) {
      const field = n < parts.length ? message.fields.find((f) => f.name === parts[n]) : undefined;
      return { desc: field ?? message, extra: [] };
    }
    const en = registry.getEnum(name);
    if (en) {
      const index = n < parts.length ? en.proto.value.findIndex((v) => v.name === parts[n]) : -1;
      return { desc: en, extra: index >= 0 ? [2, index] : [] };
    }
  }
  return undefined;
}

/**
 * The location of the element a violation names, in the side's image, from
 * its source info: the element, else its closest recorded ancestor.
 * Undefined when the side does not declare it or has no source info.
 */
export function locateElement(side: SchemaSide, path: string): ReportLocation | undefined {
  const found = findElement(side.registry, path);
  if (!found) return undefined;
  const file = fileOf(found.desc);
  const want = [...sourcePath(found.desc), ...found.extra];
  const locations = file.proto.sourceCodeInfo?.location ?? [];
  for (let n = want.length; n > 0; n--) {
    const prefix = want.slice(0, n);
    const loc = locations.find((l) => l.path.length === n && l.path.every((p, i) => p === prefix[i]));
    if (loc && loc.span.length >= 2) return { file: side.localPath(file.proto.name) ?? file.proto.name, line: loc.span[0]! + 1, column: loc.span[1]! + 1 };
  }
  return undefined;
}
