import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";

const options = {
  name: { type: "string", valueName: "NAME", description: "package.json name (default: the folder's name)" },
  force: { type: "boolean", description: "Write into a folder that is not empty (existing files are kept)" },
  packages: { type: "string", valueName: "vendor|registry", description: "Where the project gets Chronicle's packages (see above)" },
} as const satisfies OptionSpecs;
const positionals = [{ name: "dir", description: "Project folder, created when missing (default: the current folder)" }] as const;

/** What `chronicle init` receives. */
export type InitContext = CommandContext<typeof options, typeof positionals>;

/** `chronicle init`: turns an empty folder into a ready Chronicle project. */
export const initCommand = defineCommand({
  name: "init",
  summary: "Create a Chronicle project (package.json, tsconfig, buf config, an example event, producer and consumer)",
  description: [
    'Writes a ready project into an empty folder (the current one by default): package.json, tsconfig.json, buf.yaml (whose second module is node_modules/@chronicle/codegen/proto, so `import "chronicle/v1/options.proto"` resolves), buf.gen.yaml, proto/shop/orders/v1/orders.proto, src/producer.ts and src/consumer.ts, and prints what to run next.',
    "--packages says where the project gets Chronicle's packages:",
    "  vendor    this clone's packages, built and packed into vendor/chronicle/ and depended on by file: (commit the folder); the default when chronicle runs from a clone of its repository",
    "  registry  version ranges of the npm registry; the default when chronicle was installed from a registry",
  ].join("\n"),
  positionals,
  options,
  examples: ["chronicle init", "chronicle init ../my-service", "chronicle init my-service --packages registry"],
  load: async () => (await import("./run.js")).runInit,
});
