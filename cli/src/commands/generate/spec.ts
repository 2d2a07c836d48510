import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { projectDirOption } from "../../framework/common-options.js";

const options = {
  ...projectDirOption,
  template: { type: "string", valueName: "FILE", description: "buf generate template, relative to the project folder", default: "buf.gen.yaml" },
} as const satisfies OptionSpecs;

/** What `chronicle generate` receives. */
export type GenerateContext = CommandContext<typeof options>;

/** `chronicle generate`: `buf generate` without buf knowledge. */
export const generateCommand = defineCommand({
  name: "generate",
  summary: "Generate protobuf-es messages and typed Chronicle producers and handlers (buf generate)",
  description:
    "Runs buf generate in the project folder with the buf CLI installed from npm and the protoc-gen-es and protoc-gen-chronicle plugins of Chronicle's packages, following buf.gen.yaml. Invalid protos or Chronicle options are printed as path/to/file.proto:LINE:COLUMN: message, nothing is written, and the exit code is 2.",
  options,
  examples: ["chronicle generate", "chronicle generate -C services/billing"],
  load: async () => (await import("./run.js")).runGenerate,
});
