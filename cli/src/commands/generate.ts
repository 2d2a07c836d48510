import { resolve } from "node:path";
import { ExitCode, type Command } from "../framework/command.js";
import { generateProject } from "../project/generate.js";

/** `chronicle generate`: `buf generate` without buf knowledge. */
export const generateCommand: Command = {
  name: "generate",
  summary: "Generate protobuf-es messages and typed Chronicle producers and handlers (buf generate)",
  description:
    "Runs buf generate in the project folder with the buf CLI installed from npm and the protoc-gen-es and protoc-gen-chronicle plugins of Chronicle's packages, following buf.gen.yaml. Invalid protos or Chronicle options are printed as path/to/file.proto:LINE:COLUMN: message, nothing is written, and the exit code is 2.",
  positionals: [{ name: "dir", description: "Project folder (default: the current folder)" }],
  options: { template: { type: "string", valueName: "FILE", description: "buf generate template", default: "buf.gen.yaml" } },
  examples: ["chronicle generate", "chronicle generate services/billing"],
  async run(ctx) {
    const dir = resolve(ctx.cwd, typeof ctx.args["dir"] === "string" ? ctx.args["dir"] : ".");
    await generateProject(dir, { template: String(ctx.values["template"]) });
    ctx.print(`generated code for ${dir}`);
    return ExitCode.Ok;
  },
};
