import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { natsConnectionOptions, projectDirOption } from "../../framework/common-options.js";

const tailPositionals = [{ name: "stream", description: "Stream name", required: true }] as const;
const tailOptions = {
  ...natsConnectionOptions,
  ...projectDirOption,
  from: { type: "string", valueName: "start|SEQ|TIME", description: "Where to start: start, a stream sequence or a time", default: "start" },
  key: { type: "string", valueName: "K", description: "Only events of this key" },
  type: { type: "string", valueName: "T", description: "Only events of this type (name in the stream, like OrderPlaced, or proto full name)" },
  partition: { type: "integer", min: 0, max: 1023, valueName: "P", description: "Only events of this partition" },
  limit: { type: "integer", min: 1, max: Number.MAX_SAFE_INTEGER, valueName: "N", description: "Stop after N events" },
  follow: { type: "boolean", short: "f", description: "Keep printing new events until interrupted" },
  json: { type: "boolean", description: "One JSON object per event" },
} as const satisfies OptionSpecs;

/** `chronicle tail`: print a stream's events, decoded. */
export const tailCommand = defineCommand({
  name: "tail",
  summary: "Print a stream's events, decoded with the project's protos",
  description:
    "Reads a stream through an ordered consumer (no durable state, no group touched) and prints each event decoded with the descriptors of the project's protos (buf build in -C/--dir). Events that cannot be decoded are printed raw (base64) with the reason. Without --follow it stops after the last event stored when it started; with --follow it waits for new ones until Ctrl-C.",
  positionals: tailPositionals,
  options: tailOptions,
  examples: [
    "chronicle tail orders",
    "chronicle tail orders --key order-17 --from 2026-01-31T00:00:00Z",
    "chronicle tail orders --type OrderPlaced --follow --json",
  ],
  load: async () => (await import("./run.js")).runTail,
});

/** What {@link tailCommand}'s implementation receives. */
export type TailContext = CommandContext<typeof tailOptions, typeof tailPositionals>;
