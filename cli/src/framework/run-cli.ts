import { parseArgs, type ParseArgsConfig } from "node:util";
import { ExitCode, UsageError, intOption, type Command, type CommandContext, type OptionValues, type OptionSpecs } from "./command.js";
import { renderHelp } from "./help.js";

/** Where the CLI writes, so tests can capture it. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  cwd: string;
  signal?: AbortSignal;
}

const defaultIo: CliIo = {
  stdout: (l) => process.stdout.write(`${l}\n`),
  stderr: (l) => process.stderr.write(`${l}\n`),
  cwd: process.cwd(),
};

function findCommand(root: Command, argv: string[]): { command: Command; path: string[]; rest: string[] } {
  let command = root;
  const path = [root.name];
  let i = 0;
  while (command.subcommands && i < argv.length) {
    const word = argv[i]!;
    if (word.startsWith("-")) break;
    const next = command.subcommands.find((c) => c.name === word);
    if (!next) {
      const names = command.subcommands.map((c) => c.name).join(", ");
      throw new UsageError(`unknown command ${JSON.stringify(word)} for "${path.join(" ")}"; commands: ${names}. See "${path.join(" ")} --help".`);
    }
    command = next;
    path.push(word);
    i++;
  }
  return { command, path, rest: argv.slice(i) };
}

/**
 * Runs the command line `argv` (without `node` and the script) against the
 * command tree and returns the exit code: 0 ok, 1 a check failed, 2 usage or
 * input error, 70 an unexpected internal error. Errors are printed, never
 * thrown. Only the implementation of the command that runs is imported.
 */
export async function runCli(root: Command, argv: string[], version: string, io: CliIo = defaultIo): Promise<number> {
  let path = [root.name];
  try {
    if (argv[0] === "--version" || argv[0] === "-V") {
      io.stdout(version);
      return ExitCode.Ok;
    }
    const found = findCommand(root, argv);
    path = found.path;
    const { command, rest } = found;
    if (rest.includes("--help") || rest.includes("-h") || !command.load) {
      if (!command.load && rest.length > 0 && !rest.includes("--help") && !rest.includes("-h")) {
        throw new UsageError(`unexpected ${JSON.stringify(rest[0])} for "${path.join(" ")}"; see "${path.join(" ")} --help".`);
      }
      io.stdout(renderHelp(command, path));
      // a group without its command is an incomplete command line
      return command.load || rest.includes("--help") || rest.includes("-h") ? ExitCode.Ok : ExitCode.UsageError;
    }
    const specs = command.options ?? {};
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: parseArgsOptions(specs), allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(`${oneLine((err as Error).message.replace(/\. To specify.*$/s, ""))}; see "${path.join(" ")} --help".`);
    }
    const args: Record<string, string | string[] | undefined> = {};
    let p = 0;
    for (const spec of command.positionals ?? []) {
      if (spec.variadic) {
        args[spec.name] = parsed.positionals.slice(p);
        p = parsed.positionals.length;
      } else {
        args[spec.name] = parsed.positionals[p++];
      }
      if (spec.required && (args[spec.name] === undefined || (Array.isArray(args[spec.name]) && args[spec.name]!.length === 0))) {
        throw new UsageError(`missing <${spec.name}> for "${path.join(" ")}": ${spec.description}; see "${path.join(" ")} --help".`);
      }
    }
    if (p < parsed.positionals.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[p])} for "${path.join(" ")}"; see "${path.join(" ")} --help".`);
    }
    const controller = new AbortController();
    io.signal?.addEventListener("abort", () => controller.abort(), { once: true });
    const ctx: CommandContext = {
      values: optionValues(specs, parsed.values),
      args: args as CommandContext["args"],
      print: io.stdout,
      warn: io.stderr,
      signal: io.signal ?? controller.signal,
      cwd: io.cwd,
    };
    const [action] = await Promise.all([command.load(), command.prepare?.(ctx)]);
    return await action(ctx);
  } catch (err) {
    return reportError(err, path, io);
  }
}

/** Prints a command's failure as one `chronicle: ...` message and returns its exit code. */
async function reportError(err: unknown, path: string[], io: CliIo): Promise<number> {
  if (err instanceof UsageError) {
    io.stderr(`chronicle: ${err.message}`);
    return ExitCode.UsageError;
  }
  // loaded only now: a command that threw a ChronicleError has loaded the runtime already
  const { isChronicleError } = await import("@chronicle/runtime/errors");
  if (isChronicleError(err) && err.code !== "internal") {
    // an input or environment the command could not work with: the message says which
    io.stderr(`chronicle: ${err.message}`);
    return ExitCode.UsageError;
  }
  io.stderr(`chronicle: ${path.join(" ")} failed unexpectedly (a bug in Chronicle; please report it with this output):`);
  io.stderr(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return ExitCode.InternalError;
}

/** The `parseArgs` configuration of a command's option specs. */
function parseArgsOptions(specs: OptionSpecs): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.type === "string" && spec.multiple ? { multiple: true } : {}),
    } as NonNullable<ParseArgsConfig["options"]>[string];
  }
  return options;
}

/**
 * Parsed values with the shape {@link OptionValues} promises: booleans never
 * undefined, `multiple` options always arrays, integers checked against
 * their range, defaults filled in.
 */
function optionValues(specs: OptionSpecs, parsed: Record<string, unknown>): OptionValues<OptionSpecs> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const v = parsed[name];
    if (spec.type === "boolean") values[name] = v === true;
    else if (spec.type === "integer") values[name] = typeof v === "string" ? intOption(v, `--${name}`, spec.min, spec.max) : spec.default;
    else if (spec.multiple) values[name] = Array.isArray(v) ? v : [];
    else values[name] = typeof v === "string" ? v : spec.default;
  }
  return values as OptionValues<OptionSpecs>;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
