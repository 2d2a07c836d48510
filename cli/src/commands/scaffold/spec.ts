import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { projectDirOption } from "../../framework/common-options.js";

const options = {
  ...projectDirOption,
  check: { type: "boolean", description: "Change nothing; exit 1 when a stub would be added" },
} as const satisfies OptionSpecs;
const positionals = [{ name: "files", description: "Consumer files (TypeScript)", required: true, variadic: true }] as const;

/** What `chronicle scaffold` receives. */
export type ScaffoldContext = CommandContext<typeof options, typeof positionals>;

/** `chronicle scaffold`: adds stub handlers for new event types to consumer files. */
export const scaffoldCommand = defineCommand({
  name: "scaffold",
  summary: "Add typed stub handlers for new event types to existing consumer files",
  description:
    "Reads the project's streams from its protos, finds calls of the generated exhaustive helpers (ordersHandlers({...})) in the given files, and inserts a typed stub for each event type that has no handler yet, after the last one. Nothing else in the file changes; a second run changes nothing. Stubs throw, so an event is retried and then dead-lettered until its handler is written. Partial helpers are left alone. Files are relative to the current folder.",
  positionals,
  options,
  examples: ["chronicle scaffold src/consumer.ts", "chronicle scaffold --check src/*.ts"],
  load: async () => (await import("./run.js")).runScaffold,
});
