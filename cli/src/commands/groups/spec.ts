import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { jsonOption, natsConnectionOptions } from "../../framework/common-options.js";

const options = { ...natsConnectionOptions, ...jsonOption } as const satisfies OptionSpecs;

const listPositionals = [{ name: "stream", description: "Only groups of this stream" }] as const;

const listCommand = defineCommand({
  name: "list",
  summary: "List consumer groups with their lag",
  positionals: listPositionals,
  options,
  load: async () => (await import("./run.js")).runGroupsList,
});

const describePositionals = [
  { name: "stream", description: "Stream name", required: true },
  { name: "group", description: "Group name", required: true },
] as const;

const describeCommand = defineCommand({
  name: "describe",
  summary: "Members, assignment and per-partition position and lag of a group",
  positionals: describePositionals,
  options,
  load: async () => (await import("./run.js")).runGroupsDescribe,
});

const rewindPositionals = [
  { name: "stream", description: "Stream name", required: true },
  { name: "group", description: "Group name", required: true },
] as const;
const rewindOptions = {
  ...options,
  to: { type: "string", valueName: "start|SEQ|TIME", description: "Where to rewind to (required)" },
} as const satisfies OptionSpecs;

const rewindCommand = defineCommand({
  name: "rewind",
  summary: "Move a stopped group to the start, a sequence or a time",
  description:
    "Every partition of the group restarts at the target, and events from there on are handled again (the group's idempotency epoch changes). Refused while members run: stop them, rewind, start them again.",
  positionals: rewindPositionals,
  options: rewindOptions,
  examples: ["chronicle groups rewind orders billing --to start", "chronicle groups rewind orders billing --to 2026-01-31T12:00:00Z"],
  load: async () => (await import("./run.js")).runGroupsRewind,
});

/** What `chronicle groups list` receives. */
export type GroupsListContext = CommandContext<typeof options, typeof listPositionals>;
/** What `chronicle groups describe` receives. */
export type GroupsDescribeContext = CommandContext<typeof options, typeof describePositionals>;
/** What `chronicle groups rewind` receives. */
export type GroupsRewindContext = CommandContext<typeof rewindOptions, typeof rewindPositionals>;

/** `chronicle groups list|describe|rewind`: inspect and move consumer groups. */
export const groupsCommand = defineCommand({
  name: "groups",
  summary: "List, describe and rewind consumer groups",
  subcommands: [listCommand, describeCommand, rewindCommand],
});
