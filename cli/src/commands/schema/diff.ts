import { resolve } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { ExitCode, UsageError, intOption } from "../../framework/command.js";
import { diffSubject, formatChanges } from "../../schema/diff.js";
import { gitRefSide, workingTreeSide } from "../../schema/sides.js";
import { formatOf, given, registryOf } from "./shared.js";
import type { SchemaDiffContext } from "./spec.js";

/** Runs `chronicle schema diff`. */
export async function runSchemaDiff(ctx: SchemaDiffContext): Promise<number> {
  const v = ctx.values;
  const format = formatOf(v.format, ["text", "json"]);
  const subject = ctx.args.subject;
  const ref = given(v["against-git"]);
  let from: { label: string; schema: FileDescriptorSet | undefined };
  let to: typeof from;
  if (ref) {
    if (given(v.registry) || ctx.args.a !== undefined)
      throw new UsageError("--against-git compares the working tree with REF: give no versions and no --registry");
    const dir = resolve(ctx.cwd, v.dir);
    const current = await workingTreeSide(dir);
    const earlier = await gitRefSide(dir, ref);
    from = { label: earlier.label, schema: earlier.registry.getMessage(subject) ? earlier.image : undefined };
    to = { label: current.label, schema: current.registry.getMessage(subject) ? current.image : undefined };
    if (!from.schema && !to.schema) throw new UsageError(`${subject} is declared neither in the working tree nor at ${ref}`);
  } else {
    using registry = await registryOf(v);
    const versions = await registry.listVersions(subject);
    if (versions.length === 0) throw new UsageError(`subject ${subject} is not registered at ${registry.url}`);
    const last = versions[versions.length - 1]!;
    const b = intOption(ctx.args.b, "<b>", 1, 2 ** 31 - 1) ?? last;
    const a = intOption(ctx.args.a, "<a>", 1, 2 ** 31 - 1) ?? versions[versions.indexOf(b) - 1] ?? b;
    const history = await registry.history(subject);
    const pick = (n: number) => {
      const h = history.find((x) => x.version === n);
      if (!h) throw new UsageError(`${subject} has no live version ${n}; versions: ${versions.join(", ")}`);
      return { label: `v${n}`, schema: fromBinary(FileDescriptorSetSchema, h.schema) };
    };
    from = pick(a);
    to = pick(b);
  }
  const changes = from.schema && to.schema ? diffSubject(from.schema, to.schema, subject) : [];
  const status = !from.schema ? "added" : !to.schema ? "deleted" : changes.length ? "changed" : "unchanged";
  if (format === "json") {
    ctx.print(JSON.stringify({ subject, from: from.label, to: to.label, status, changes }, null, 2));
  } else {
    ctx.print(`${subject}: ${from.label} -> ${to.label}`);
    if (status === "added") ctx.print(`  + message  ${subject}: not declared at ${from.label}`);
    else if (status === "deleted") ctx.print(`  - message  ${subject}: no longer declared in ${to.label}`);
    else for (const line of formatChanges(changes)) ctx.print(line);
  }
  return ExitCode.Ok;
}
