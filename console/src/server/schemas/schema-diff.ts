import { create } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { checkCompatibility, MODE_NAMES, registryApi, type CompatibilityMode, type RuleCategory, type Violation } from "@chronicle/registry";
import {
  AnnotatedViolationSchema,
  DiffOp,
  DiffRowSchema,
  ModeVerdictSchema,
  ProtoTextSchema,
  type DiffRow,
  type ModeVerdict,
  type ProtoText,
} from "../../gen/chronicle/console/v1/console_pb.js";
import { diffLines, type DiffKind } from "./line-diff.js";
import { renderProto, type RenderedLine } from "./proto-text.js";

/** A version of a subject with its decoded schema. */
export interface VersionedSchema {
  version: number;
  schema: FileDescriptorSet;
}

/** Two schemas side by side, each line tagged, with each mode's verdict placed on the lines. */
export interface SchemaComparison {
  left: ProtoText;
  right: ProtoText;
  rows: DiffRow[];
  verdicts: ModeVerdict[];
}

const OPS: Record<DiffKind, DiffOp> = { same: DiffOp.SAME, removed: DiffOp.REMOVED, added: DiffOp.ADDED, changed: DiffOp.CHANGED };

/** Every mode, `first` at the head: the subject's own mode is shown first. */
export function modesWithFirst(first: CompatibilityMode): CompatibilityMode[] {
  return [first, ...MODE_NAMES.filter((m) => m !== first)];
}

function elementIndex(lines: readonly RenderedLine[]): Map<string, number> {
  const index = new Map<string, number>();
  lines.forEach((l, i) => {
    if (l.element && !index.has(l.element)) index.set(l.element, i + 1);
  });
  return index;
}

/** The line declaring `path`, or its closest enclosing element; 0 when none. */
function lineOf(index: Map<string, number>, path: string): number {
  for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const hit = index.get(p);
    if (hit) return hit;
  }
  return 0;
}

/**
 * Compares `next` with the versions before it under every mode (the
 * subject's first). `history` holds the versions it is checked against,
 * oldest first; its last is the one shown on the left. Non-transitive modes
 * check against that one, transitive modes against all of them, as the
 * registry would. Each violation is placed on the line of the element it
 * names: on the right when the element is still declared, else on the left
 * (a deletion).
 */
export function compareSchemas(
  subject: string,
  history: readonly VersionedSchema[],
  next: FileDescriptorSet,
  subjectMode: CompatibilityMode,
  category: RuleCategory,
): SchemaComparison {
  const previous = history[history.length - 1];
  const leftLines = previous ? renderProto(previous.schema) : [];
  const rightLines = renderProto(next);
  const leftIndex = elementIndex(leftLines);
  const rightIndex = elementIndex(rightLines);
  const rows = diffLines(
    leftLines.map((l) => l.text),
    rightLines.map((l) => l.text),
  ).map((r) => create(DiffRowSchema, { op: OPS[r.kind], left: r.left, right: r.right }));
  const verdicts = modesWithFirst(subjectMode).map((mode) => {
    const transitive = mode.endsWith("_TRANSITIVE");
    const against = transitive ? history : history.slice(-1);
    const result =
      mode === "NONE" || against.length === 0
        ? { compatible: true, violations: [] as Violation[] }
        : checkCompatibility({ subject, next, history: against.map((v) => ({ version: v.version, schema: v.schema })), mode, category });
    return create(ModeVerdictSchema, {
      mode: registryApi.CompatibilityMode[mode],
      compatible: result.compatible,
      checkedVersions: mode === "NONE" ? [] : against.map((v) => v.version),
      violations: result.violations.map((v) => {
        const right = rightIndex.get(v.path) ?? 0;
        const left = leftIndex.get(v.path) ?? 0;
        return create(AnnotatedViolationSchema, {
          violation: {
            rule: v.rule,
            message: v.message,
            path: v.path,
            againstVersion: v.againstVersion ?? 0,
            ...(v.location ? { location: v.location } : {}),
          },
          rightLine: right || (left ? 0 : lineOf(rightIndex, v.path)),
          leftLine: left || (right ? 0 : lineOf(leftIndex, v.path)),
        });
      }),
    });
  });
  const text = (lines: RenderedLine[]) => create(ProtoTextSchema, { lines });
  return { left: text(leftLines), right: text(rightLines), rows, verdicts };
}
