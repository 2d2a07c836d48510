import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { jsonOption, natsConnectionOptions, projectDirOption } from "../../framework/common-options.js";

const options = { ...natsConnectionOptions, ...jsonOption } as const;
const streamArg = { name: "stream", description: "Stream name (its dead letters are in <stream>_dlq)", required: true } as const;
const seqArg = { name: "seq", description: "Sequence of the dead letter in <stream>_dlq (see dlq list)", required: true } as const;

const listPositionals = [streamArg] as const;
const listOptions = {
  ...options,
  group: { type: "string", valueName: "G", description: "Only dead letters of this group" },
  limit: { type: "integer", min: 1, max: Number.MAX_SAFE_INTEGER, valueName: "N", description: "At most N (default 1000)" },
} as const satisfies OptionSpecs;

const listCommand = defineCommand({
  name: "list",
  summary: "List the dead letters of a stream",
  positionals: listPositionals,
  options: listOptions,
  load: async () => (await import("./run.js")).runDlqList,
});

const showPositionals = [streamArg, seqArg] as const;
const showOptions = { ...options, ...projectDirOption } as const satisfies OptionSpecs;

const showCommand = defineCommand({
  name: "show",
  summary: "Show one dead letter, its headers and its event decoded with the project's protos",
  positionals: showPositionals,
  options: showOptions,
  load: async () => (await import("./run.js")).runDlqShow,
});

const redrivePositionals = [streamArg, { name: "seq", description: "Dead-letter sequence; omit with --all" }] as const;
const redriveOptions = {
  ...options,
  all: { type: "boolean", description: "Redrive every dead letter (of --group, if given)" },
  group: { type: "string", valueName: "G", description: "With --all: only this group's" },
} as const satisfies OptionSpecs;

const redriveCommand = defineCommand({
  name: "redrive",
  summary: "Send dead letters back to their group (only that group handles them again)",
  positionals: redrivePositionals,
  options: redriveOptions,
  load: async () => (await import("./run.js")).runDlqRedrive,
});

const purgePositionals = [streamArg] as const;
const purgeOptions = { ...options, group: { type: "string", valueName: "G", description: "Only this group's" } } as const satisfies OptionSpecs;

const purgeCommand = defineCommand({
  name: "purge",
  summary: "Delete the dead letters of a stream (or of one group)",
  positionals: purgePositionals,
  options: purgeOptions,
  load: async () => (await import("./run.js")).runDlqPurge,
});

/** What `chronicle dlq list` receives. */
export type DlqListContext = CommandContext<typeof listOptions, typeof listPositionals>;
/** What `chronicle dlq show` receives. */
export type DlqShowContext = CommandContext<typeof showOptions, typeof showPositionals>;
/** What `chronicle dlq redrive` receives. */
export type DlqRedriveContext = CommandContext<typeof redriveOptions, typeof redrivePositionals>;
/** What `chronicle dlq purge` receives. */
export type DlqPurgeContext = CommandContext<typeof purgeOptions, typeof purgePositionals>;

/** `chronicle dlq list|show|redrive|purge`: dead letters of a stream. */
export const dlqCommand = defineCommand({
  name: "dlq",
  summary: "List, inspect, redrive and purge dead letters",
  subcommands: [listCommand, showCommand, redriveCommand, purgeCommand],
});
