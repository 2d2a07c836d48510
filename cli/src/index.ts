// @chronicle/cli: the `chronicle` command, also usable as a library.

export { runCli, type CliIo } from "./framework/run-cli.js";
export { rootCommand } from "./commands/root.js";
export {
  ExitCode,
  UsageError,
  defineCommand,
  intOption,
  type Command,
  type CommandSpec,
  type CommandContext,
  type CommandAction,
  type OptionSpec,
  type OptionSpecs,
  type OptionValue,
  type OptionValues,
  type ArgValues,
  type PositionalSpec,
} from "./framework/command.js";
export { cliVersion } from "./version.js";
