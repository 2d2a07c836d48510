// @chronicle/cli: the `chronicle` command, also usable as a library.

export { runCli, type CliIo } from "./framework/run-cli.js";
export { rootCommand } from "./commands/root.js";
export { ExitCode, UsageError, intOption, type Command, type CommandContext, type OptionSpec, type PositionalSpec } from "./framework/command.js";
export { cliVersion } from "./version.js";
