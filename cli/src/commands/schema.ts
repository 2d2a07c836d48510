import { resolve } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { ExitCode, UsageError, intOption, type Command, type CommandContext, type OptionSpec } from "../framework/command.js";
import { checkAgainstRegistry, checkAgainstSide, type RegistryOverrides } from "../schema/check.js";
import { parseMode, parseRules, readSchemaConfig } from "../schema/config.js";
import { diffSubject, formatChanges } from "../schema/diff.js";
import { OUTPUT_FORMATS, formatGithub, formatJson, formatText, type OutputFormat } from "../schema/format.js";
import { pushReport } from "../schema/push.js";
import { openRegistry, type RegistryAccess } from "../schema/registry-access.js";
import { reportBase } from "../schema/report-base.js";
import { gitRefSide, imageFileSide, workingTreeSide } from "../schema/sides.js";
import type { CheckReport } from "../schema/types.js";

const TOKEN_ENV = "CHRONICLE_REGISTRY_TOKEN";

const common: Record<string, OptionSpec> = {
  dir: { type: "string", short: "C", valueName: "DIR", description: "Project folder (with buf.yaml)", default: "." },
  registry: { type: "string", valueName: "URL", description: "Schema registry base URL" },
  token: { type: "string", valueName: "TOKEN", description: `Registry bearer token (default: $${TOKEN_ENV})` },
};

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

function formatOf(ctx: CommandContext, allowed: readonly OutputFormat[] = OUTPUT_FORMATS): OutputFormat {
  const f = str(ctx, "format") ?? "text";
  if (!(allowed as readonly string[]).includes(f)) throw new UsageError(`--format must be one of ${allowed.join(", ")}, got ${JSON.stringify(f)}`);
  return f as OutputFormat;
}

function registryOf(ctx: CommandContext): RegistryAccess {
  const url = str(ctx, "registry");
  if (!url) throw new UsageError("--registry URL is required (or, for diff, --against-git REF)");
  const token = str(ctx, "token") ?? process.env[TOKEN_ENV];
  return openRegistry({ url, ...(token ? { token } : {}) });
}

async function printReport(ctx: CommandContext, report: CheckReport, format: OutputFormat, noun: string, extra: Record<string, unknown> = {}): Promise<void> {
  const base = await reportBase(ctx.cwd, resolve(ctx.cwd, str(ctx, "dir") ?? "."), format);
  if (format === "json") ctx.print(formatJson(report, base, extra));
  else for (const line of format === "github" ? formatGithub(report, base, noun) : formatText(report, base, noun)) ctx.print(line);
}

const checkCommand: Command = {
  name: "check",
  summary: "Check the working tree's event schemas against the registry, a git ref or an image",
  description: [
    "Builds the buf module(s) of the project with the buf CLI from npm and checks every event message (annotated with (chronicle.v1.event)) for compatibility against exactly one of:",
    "  --registry URL       each subject's history, under the subject's mode and rule category (the registry's dry-run check)",
    "  --against-git REF    the same project at a git ref (main, HEAD~1, a tag), as the single earlier version",
    "  --against-image FILE an image written by `buf build -o FILE.binpb`",
    "Local checks use the mode and rules of the `schema:` section of chronicle.yaml (default FULL_TRANSITIVE, WIRE_JSON); --mode and --rules override them (and, with --registry, the registry's settings).",
    "An event on the earlier side that the working tree no longer declares is reported: its stream still holds its history.",
    "Exit codes: 0 compatible, 1 incompatible, 2 usage or input error (does not compile, unknown ref, registry unreachable).",
  ].join("\n"),
  options: {
    ...common,
    "against-git": { type: "string", valueName: "REF", description: "Compare with the project at this git ref" },
    "against-image": { type: "string", valueName: "FILE", description: "Compare with a buf image (binpb)" },
    mode: { type: "string", valueName: "MODE", description: "BACKWARD, FORWARD, FULL (each also _TRANSITIVE) or NONE" },
    rules: { type: "string", valueName: "CATEGORY", description: "Rule category: WIRE or WIRE_JSON" },
    "all-messages": { type: "boolean", description: "Check every message of the module, event or not" },
    format: { type: "string", valueName: "FORMAT", description: "text, json, or github (Actions annotations)", default: "text" },
  },
  examples: [
    "chronicle schema check --against-git origin/main",
    "chronicle schema check --against-git HEAD~1 --rules WIRE --format github",
    "chronicle schema check --registry https://registry.example.com --format json",
    "chronicle schema check --against-image main.binpb --all-messages",
  ],
  async run(ctx) {
    const format = formatOf(ctx);
    const dir = resolve(ctx.cwd, str(ctx, "dir") ?? ".");
    const sources = (["registry", "against-git", "against-image"] as const).filter((k) => str(ctx, k) !== undefined);
    if (sources.length !== 1) {
      throw new UsageError(
        `give exactly one of --registry URL, --against-git REF, --against-image FILE${sources.length ? ` (got ${sources.map((s) => `--${s}`).join(" and ")})` : ""}; see "chronicle schema check --help"`,
      );
    }
    const mode = str(ctx, "mode");
    const rules = str(ctx, "rules");
    const overrides: RegistryOverrides = {
      ...(mode ? { mode: parseMode(mode, "--mode") } : {}),
      ...(rules ? { rules: parseRules(rules, "--rules") } : {}),
    };
    const selection = { allMessages: ctx.values["all-messages"] === true };
    const noun = selection.allMessages ? "message" : "event";
    const current = await workingTreeSide(dir);
    let report: CheckReport;
    if (sources[0] === "registry") {
      using registry = registryOf(ctx);
      report = await checkAgainstRegistry(current, registry, overrides, selection);
    } else {
      const config = { ...readSchemaConfig(dir), ...overrides };
      const earlier = sources[0] === "against-git" ? await gitRefSide(dir, str(ctx, "against-git")!) : imageFileSide(ctx.cwd, str(ctx, "against-image")!);
      report = checkAgainstSide(current, earlier, config, selection);
    }
    await printReport(ctx, report, format, noun);
    return report.compatible ? ExitCode.Ok : ExitCode.CheckFailed;
  },
};

const pushCommand: Command = {
  name: "push",
  summary: "Register new versions of the working tree's events in the registry (after merge)",
  description: [
    "Builds the project and registers one subject per event message (its schema: the file declaring it and its imports).",
    "Checks every event first; when any is incompatible it prints the same report as `chronicle schema check` and registers nothing.",
    "Idempotent: an event whose schema is registered already is reported unchanged.",
    "Exit codes: 0 registered or unchanged, 1 incompatible (nothing registered), 2 usage or input error.",
  ].join("\n"),
  options: {
    ...common,
    "all-messages": { type: "boolean", description: "Register every message of the module, event or not" },
    format: { type: "string", valueName: "FORMAT", description: "text, json, or github", default: "text" },
  },
  examples: [
    "chronicle schema push --registry https://registry.example.com",
    "CHRONICLE_REGISTRY_TOKEN=... chronicle schema push --registry $URL --format json",
  ],
  async run(ctx) {
    const format = formatOf(ctx);
    const dir = resolve(ctx.cwd, str(ctx, "dir") ?? ".");
    const selection = { allMessages: ctx.values["all-messages"] === true };
    const noun = selection.allMessages ? "message" : "event";
    using registry = registryOf(ctx);
    const current = await workingTreeSide(dir);
    const report = await checkAgainstRegistry(current, registry, {}, selection);
    if (!report.compatible) {
      await printReport(ctx, report, format, noun, { registered: [] });
      if (format !== "json") ctx.warn("chronicle: nothing was registered: fix the incompatible schemas first (see above)");
      return ExitCode.CheckFailed;
    }
    const pushed = await pushReport(current, registry, report);
    if (format === "json") {
      await printReport(ctx, pushed.report, format, noun, { registered: pushed.registered });
    } else {
      for (const line of pushed.lines) ctx.print(line);
      if (!pushed.report.compatible) await printReport(ctx, pushed.report, format, noun);
    }
    return pushed.report.compatible ? ExitCode.Ok : ExitCode.CheckFailed;
  },
};

const diffCommand: Command = {
  name: "diff",
  summary: "Show what changed in a subject between two versions (registry) or against a git ref",
  description: [
    "Prints fields, enum values, messages and reserved ranges added, removed or changed (with numbers and types) in the subject's message and every type it reaches.",
    "With --registry: versions A and B of the subject (default: the latest but one and the latest).",
    "With --against-git REF: the subject at REF against the working tree, no registry needed.",
  ].join("\n"),
  positionals: [
    { name: "subject", description: "Event full name, e.g. acme.orders.v1.OrderPlaced", required: true },
    { name: "a", description: "Older version (registry; default latest-1)" },
    { name: "b", description: "Newer version (registry; default latest)" },
  ],
  options: {
    ...common,
    "against-git": { type: "string", valueName: "REF", description: "Compare the working tree with this git ref instead of registry versions" },
    format: { type: "string", valueName: "FORMAT", description: "text or json", default: "text" },
  },
  examples: [
    "chronicle schema diff acme.orders.v1.OrderPlaced --registry $URL",
    "chronicle schema diff acme.orders.v1.OrderPlaced 1 3 --registry $URL",
    "chronicle schema diff acme.orders.v1.OrderPlaced --against-git main",
  ],
  async run(ctx) {
    const format = formatOf(ctx, ["text", "json"]);
    const subject = String(ctx.args["subject"]);
    const ref = str(ctx, "against-git");
    let from: { label: string; schema: FileDescriptorSet | undefined };
    let to: typeof from;
    if (ref) {
      if (str(ctx, "registry") || ctx.args["a"] !== undefined)
        throw new UsageError("--against-git compares the working tree with REF: give no versions and no --registry");
      const dir = resolve(ctx.cwd, str(ctx, "dir") ?? ".");
      const current = await workingTreeSide(dir);
      const earlier = await gitRefSide(dir, ref);
      from = { label: earlier.label, schema: earlier.registry.getMessage(subject) ? earlier.image : undefined };
      to = { label: current.label, schema: current.registry.getMessage(subject) ? current.image : undefined };
      if (!from.schema && !to.schema) throw new UsageError(`${subject} is declared neither in the working tree nor at ${ref}`);
    } else {
      using registry = registryOf(ctx);
      const versions = await registry.listVersions(subject);
      if (versions.length === 0) throw new UsageError(`subject ${subject} is not registered at ${registry.url}`);
      const last = versions[versions.length - 1]!;
      const b = intOption(ctx.args["b"], "b", 1, 2 ** 31 - 1) ?? last;
      const a = intOption(ctx.args["a"], "a", 1, 2 ** 31 - 1) ?? versions[versions.indexOf(b) - 1] ?? b;
      const history = await registry.history(subject);
      const pick = (n: number) => {
        const h = history.find((v) => v.version === n);
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
  },
};

/** `chronicle schema`: compatibility checks in CI, registration after merge, readable diffs. */
export const schemaCommand: Command = {
  name: "schema",
  summary: "Check, push and diff event schemas (CI): against the registry, a git ref or an image",
  subcommands: [checkCommand, pushCommand, diffCommand],
};
