import { resolve } from "node:path";
import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { REGISTRY_TOKEN_ENV, projectDirOption } from "../../framework/common-options.js";

const registryOptions = {
  registry: { type: "string", valueName: "URL", description: "Schema registry base URL" },
  token: { type: "string", valueName: "TOKEN", description: `Registry bearer token (default: $${REGISTRY_TOKEN_ENV})` },
} as const;

const checkOptions = {
  ...projectDirOption,
  ...registryOptions,
  "against-git": { type: "string", valueName: "REF", description: "Compare with the project at this git ref" },
  "against-image": { type: "string", valueName: "FILE", description: "Compare with a buf image (binpb)" },
  mode: { type: "string", valueName: "MODE", description: "BACKWARD, FORWARD, FULL (each also _TRANSITIVE) or NONE" },
  rules: { type: "string", valueName: "CATEGORY", description: "Rule category: WIRE or WIRE_JSON" },
  "all-messages": { type: "boolean", description: "Check every message of the module, event or not" },
  format: { type: "string", valueName: "FORMAT", description: "text, json, or github (Actions annotations)", default: "text" },
} as const satisfies OptionSpecs;

const checkCommand = defineCommand({
  name: "check",
  summary: "Check the working tree's event schemas against the registry, a git ref or an image",
  description: [
    "Builds the buf module(s) of the project with the buf CLI from npm and checks every event message (annotated with (chronicle.v1.event)) for compatibility against exactly one of:",
    "  --registry URL       each subject's history, under the subject's mode and rule category (the registry's dry-run check)",
    "  --against-git REF    the same project folder at a git ref (main, HEAD~1, a tag), as the single earlier version",
    "  --against-image FILE an image written by `buf build -o FILE.binpb`",
    "Local checks use the mode and rules of the `schema:` section of chronicle.yaml (default FULL_TRANSITIVE, WIRE_JSON); --mode and --rules override them (and, with --registry, the registry's settings).",
    "With --against-git, modules that git does not track (node_modules/@chronicle/codegen/proto of a `chronicle init` project) are taken from the working tree for both sides. A project folder without buf.yaml (now or at the ref) is a usage error; a folder that did not exist at the ref is compared as empty, and the summary says so.",
    "An event on the earlier side that the working tree no longer declares is reported: its stream still holds its history.",
    "Exit codes: 0 compatible, 1 incompatible, 2 usage or input error (does not compile, unknown ref, registry unreachable).",
  ].join("\n"),
  options: checkOptions,
  examples: [
    "chronicle schema check --against-git origin/main",
    "chronicle schema check --against-git HEAD~1 --rules WIRE --format github",
    "chronicle schema check --registry https://registry.example.com --format json",
    "chronicle schema check --against-image main.binpb --all-messages",
  ],
  load: async () => (await import("./check.js")).runSchemaCheck,
  // buf builds the working tree while the check's code loads
  prepare: async (ctx) => (await import("../../project/buf.js")).startImageBuild(resolve(ctx.cwd, ctx.values.dir)),
});

const pushOptions = {
  ...projectDirOption,
  ...registryOptions,
  "all-messages": { type: "boolean", description: "Register every message of the module, event or not" },
  format: { type: "string", valueName: "FORMAT", description: "text, json, or github", default: "text" },
} as const satisfies OptionSpecs;

const pushCommand = defineCommand({
  name: "push",
  summary: "Register new versions of the working tree's events in the registry (after merge)",
  description: [
    "Builds the project and registers one subject per event message (its schema: the file declaring it and its imports).",
    "Checks every event first; when any is incompatible it prints the same report as `chronicle schema check` and registers nothing.",
    "Idempotent: an event whose schema is registered already is reported unchanged.",
    "Exit codes: 0 registered or unchanged, 1 incompatible (nothing registered), 2 usage or input error.",
  ].join("\n"),
  options: pushOptions,
  examples: [
    "chronicle schema push --registry https://registry.example.com",
    "CHRONICLE_REGISTRY_TOKEN=... chronicle schema push --registry $URL --format json",
  ],
  load: async () => (await import("./push.js")).runSchemaPush,
});

const diffPositionals = [
  { name: "subject", description: "Event full name, e.g. acme.orders.v1.OrderPlaced", required: true },
  { name: "a", description: "Older version (registry; default latest-1)" },
  { name: "b", description: "Newer version (registry; default latest)" },
] as const;
const diffOptions = {
  ...projectDirOption,
  ...registryOptions,
  "against-git": { type: "string", valueName: "REF", description: "Compare the working tree with this git ref instead of registry versions" },
  format: { type: "string", valueName: "FORMAT", description: "text or json", default: "text" },
} as const satisfies OptionSpecs;

const diffCommand = defineCommand({
  name: "diff",
  summary: "Show what changed in a subject between two versions (registry) or against a git ref",
  description: [
    "Prints fields, enum values, messages and reserved ranges added, removed or changed (with numbers and types) in the subject's message and every type it reaches.",
    "With --registry: versions A and B of the subject (default: the latest but one and the latest).",
    "With --against-git REF: the subject at REF against the working tree, no registry needed.",
  ].join("\n"),
  positionals: diffPositionals,
  options: diffOptions,
  examples: [
    "chronicle schema diff acme.orders.v1.OrderPlaced --registry $URL",
    "chronicle schema diff acme.orders.v1.OrderPlaced 1 3 --registry $URL",
    "chronicle schema diff acme.orders.v1.OrderPlaced --against-git main",
  ],
  load: async () => (await import("./diff.js")).runSchemaDiff,
});

/** What `chronicle schema check` receives. */
export type SchemaCheckContext = CommandContext<typeof checkOptions>;
/** What `chronicle schema push` receives. */
export type SchemaPushContext = CommandContext<typeof pushOptions>;
/** What `chronicle schema diff` receives. */
export type SchemaDiffContext = CommandContext<typeof diffOptions, typeof diffPositionals>;

/** `chronicle schema`: compatibility checks in CI, registration after merge, readable diffs. */
export const schemaCommand = defineCommand({
  name: "schema",
  summary: "Check, push and diff event schemas (CI): against the registry, a git ref or an image",
  subcommands: [checkCommand, pushCommand, diffCommand],
});
