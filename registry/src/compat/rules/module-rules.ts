import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { FilePath, ServicePath } from "../descriptor-paths.js";
import { trimDot, type FileNode, type MethodNode } from "../model.js";
import { at, oldNew, WIRE_AND_WIRE_JSON, type Rule, type RuleContext } from "./rule.js";

// Rules on what no message reaches: a file's package and a service's RPCs.
// They run in whole-module checks only (`subjectScoped: false`).

const fileSamePackage: Rule = {
  id: "FILE_SAME_PACKAGE",
  categories: WIRE_AND_WIRE_JSON,
  direction: "both-ways",
  symmetric: true,
  subjectScoped: false,
  purpose: "Files keep their package.",
  check: (ctx) => {
    for (const [path, prevFile] of ctx.prev.files) {
      const curFile = ctx.cur.files.get(path);
      if (curFile === undefined || prevFile.pkg === curFile.pkg) continue;
      const [older, newer] = oldNew(ctx, prevFile.pkg, curFile.pkg);
      const firstLine = { file: path, line: 1, column: 1 };
      ctx.emit({
        rule: "FILE_SAME_PACKAGE",
        message: `File "${path}" changed package from "${older}" to "${newer}"; every type in it changed its full name.`,
        path,
        owner: { kind: "file", name: path },
        file: curFile.path,
        location: at(curFile, [FilePath.package]) ?? firstLine,
        againstLocation: at(prevFile, [FilePath.package]) ?? firstLine,
      });
    }
  },
};

/** An RPC present in both versions, with where each side declares it. */
interface MethodPair {
  service: string;
  name: string;
  prevFile: FileNode;
  curFile: FileNode;
  prev: MethodNode;
  cur: MethodNode;
}

function forEachMethodPair(ctx: RuleContext, fn: (pair: MethodPair) => void): void {
  for (const [service, prevService] of ctx.prev.services) {
    const curService = ctx.cur.services.get(service);
    if (curService === undefined) continue;
    for (const [name, prev] of prevService.methods) {
      const cur = curService.methods.get(name);
      if (cur !== undefined) fn({ service, name, prevFile: prevService.file, curFile: curService.file, prev, cur });
    }
  }
}

/**
 * A rule on an RPC property: `differs` says how the newer method differs from
 * the older one (undefined when it does not); `subPath` is where in the
 * method's source the property is reported.
 */
function rpcRule(id: string, purpose: string, differs: (older: MethodNode, newer: MethodNode) => string | undefined, subPath: readonly number[]): Rule {
  return {
    id,
    categories: WIRE_AND_WIRE_JSON,
    direction: "both-ways",
    subjectScoped: false,
    purpose,
    check: (ctx) =>
      forEachMethodPair(ctx, (pair) => {
        const [older, newer] = oldNew(ctx, pair.prev, pair.cur);
        const what = differs(older, newer);
        if (what === undefined) return;
        ctx.emit({
          rule: id,
          message: `RPC "${pair.name}" of service "${pair.service}" ${what}.`,
          path: `${pair.service}.${pair.name}`,
          owner: { kind: "service", name: pair.service },
          file: pair.curFile.path,
          location: at(pair.curFile, [...pair.cur.path, ...subPath]),
          againstLocation: at(pair.prevFile, [...pair.prev.path, ...subPath]),
        });
      }),
  };
}

const streaming = (b: boolean): string => (b ? "streaming" : "unary");

function idempotencyName(level: MethodOptions_IdempotencyLevel): string {
  return MethodOptions_IdempotencyLevel[level] ?? String(level);
}

const rpcRules: readonly Rule[] = [
  rpcRule(
    "RPC_SAME_CLIENT_STREAMING",
    "RPCs keep client streaming.",
    (o, n) =>
      o.proto.clientStreaming === n.proto.clientStreaming
        ? undefined
        : `changed from client ${streaming(o.proto.clientStreaming)} to client ${streaming(n.proto.clientStreaming)}`,
    [],
  ),
  rpcRule(
    "RPC_SAME_SERVER_STREAMING",
    "RPCs keep server streaming.",
    (o, n) =>
      o.proto.serverStreaming === n.proto.serverStreaming
        ? undefined
        : `changed from server ${streaming(o.proto.serverStreaming)} to server ${streaming(n.proto.serverStreaming)}`,
    [],
  ),
  rpcRule(
    "RPC_SAME_REQUEST_TYPE",
    "RPCs keep their request type.",
    (o, n) =>
      trimDot(o.proto.inputType) === trimDot(n.proto.inputType)
        ? undefined
        : `changed request type from "${trimDot(o.proto.inputType)}" to "${trimDot(n.proto.inputType)}"`,
    [ServicePath.inputType],
  ),
  rpcRule(
    "RPC_SAME_RESPONSE_TYPE",
    "RPCs keep their response type.",
    (o, n) =>
      trimDot(o.proto.outputType) === trimDot(n.proto.outputType)
        ? undefined
        : `changed response type from "${trimDot(o.proto.outputType)}" to "${trimDot(n.proto.outputType)}"`,
    [ServicePath.outputType],
  ),
  rpcRule(
    "RPC_SAME_IDEMPOTENCY_LEVEL",
    "RPCs keep their idempotency level.",
    (o, n) => {
      const older = o.proto.options?.idempotencyLevel ?? MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
      const newer = n.proto.options?.idempotencyLevel ?? MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
      return older === newer ? undefined : `changed option "idempotency_level" from "${idempotencyName(older)}" to "${idempotencyName(newer)}"`;
    },
    [ServicePath.options, ServicePath.optionsIdempotencyLevel],
  ),
];

/** Rules on files and services. */
export const moduleRules: readonly Rule[] = [fileSamePackage, ...rpcRules];
