import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { natsConnectionOptions, projectDirOption } from "../../framework/common-options.js";

const planOptions = {
  ...natsConnectionOptions,
  ...projectDirOption,
  force: { type: "boolean", description: "Plan as apply --force would: destructive changes are applied, not refused" },
  "exit-code": { type: "boolean", description: "Exit 1 when apply would change anything (0 only when every stream is up to date)" },
  json: { type: "boolean", description: "Print the plans as JSON" },
} as const satisfies OptionSpecs;

const planCommand = defineCommand({
  name: "plan",
  summary: "Show what apply would change, without changing anything",
  description:
    "Compiles the project's protos (buf build), reads each stream's settings from its (chronicle.v1.stream) option and compares them with the streams and dead-letter streams on the server: create, update (with each field's change), unchanged, or refused with the reason (a change that would remap keys or lose events). Exit code 1 when a change would be refused, and with --exit-code also when anything would change (for a CI step or a deploy check).",
  options: planOptions,
  examples: ["chronicle streams plan", "chronicle streams plan --exit-code", "chronicle streams plan --servers nats://10.0.0.5:4222 --json"],
  load: async () => (await import("./run.js")).runStreamsPlan,
});

const applyOptions = {
  ...natsConnectionOptions,
  ...projectDirOption,
  force: { type: "boolean", description: "Apply changes that remap keys or lose stored events" },
  json: { type: "boolean", description: "Print the results as JSON" },
} as const satisfies OptionSpecs;

const applyCommand = defineCommand({
  name: "apply",
  summary: "Create or update the project's streams and dead-letter streams",
  description:
    "Creates missing streams (S, subjects S.*.* partitioned by a subject transform) and their dead-letter streams (S_dlq), and applies safe changes. Changes that would remap keys (partitions) or lose events (shorter max age, smaller limits, another storage type) are refused unless --force; with --force a storage change deletes and recreates the stream. Idempotent. Exit code 1 when a change was refused.",
  options: applyOptions,
  examples: ["chronicle streams apply", "chronicle streams apply --force --json"],
  load: async () => (await import("./run.js")).runStreamsApply,
});

/** What `chronicle streams plan` receives. */
export type StreamsPlanContext = CommandContext<typeof planOptions>;
/** What `chronicle streams apply` receives. */
export type StreamsApplyContext = CommandContext<typeof applyOptions>;

/** `chronicle streams plan|apply`: provision the project's streams and dead-letter streams. */
export const streamsCommand = defineCommand({
  name: "streams",
  summary: "Show or apply the difference between the project's stream definitions and the server",
  subcommands: [planCommand, applyCommand],
});
