import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { jsonOption, natsConnectionOptions } from "../../framework/common-options.js";

const lagPositionals = [
  { name: "stream", description: "Only this stream" },
  { name: "group", description: "Only this group" },
] as const;
const lagOptions = {
  ...natsConnectionOptions,
  ...jsonOption,
  max: { type: "integer", min: 0, max: Number.MAX_SAFE_INTEGER, valueName: "N", description: "Exit 1 when a group's lag is above N" },
  partitions: { type: "boolean", description: "Show the lag of each partition" },
} as const satisfies OptionSpecs;

/** `chronicle lag`: unacknowledged events per group, optionally failing above a limit. */
export const lagCommand = defineCommand({
  name: "lag",
  summary: "Events not yet handled, per consumer group and partition",
  description:
    "Prints the lag (pending + unacknowledged events) of every group, or of one stream or group. With --max, exits 1 when a group's lag is above it (for health checks).",
  positionals: lagPositionals,
  options: lagOptions,
  load: async () => (await import("./run.js")).runLag,
});

/** What {@link lagCommand}'s implementation receives. */
export type LagContext = CommandContext<typeof lagOptions, typeof lagPositionals>;
