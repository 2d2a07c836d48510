import { parseArgs, type ParseArgsConfig } from "node:util";
import { isChronicleError } from "@chronicle/runtime";
import { ExitCode, UsageError, type Command, type CommandContext } from "./command.js";
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
 * input error. Errors are printed, never thrown.
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
    if (rest.includes("--help") || rest.includes("-h") || !command.run) {
      if (!command.run && rest.length > 0 && !rest.includes("--help") && !rest.includes("-h")) {
        throw new UsageError(`unexpected ${JSON.stringify(rest[0])} for "${path.join(" ")}"; see "${path.join(" ")} --help".`);
      }
      io.stdout(renderHelp(command, path));
      // a group without its command is an incomplete command line
      return command.run || rest.includes("--help") || rest.includes("-h") ? ExitCode.Ok : ExitCode.UsageError;
    }
    const options: NonNullable<ParseArgsConfig["options"]> = {};
    for (const [name, spec] of Object.entries(command.options ?? {})) {
      options[name] = {
        type: spec.type,
        ...(spec.short ? { short: spec.short } : {}),
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
      } as NonNullable<ParseArgsConfig["options"]>[string];
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/s, "")}; see "${path.join(" ")} --help".`);
    }
    const args: Record<string, string | string[] | undefined> = {};
    const specs = command.positionals ?? [];
    let p = 0;
    for (const spec of specs) {
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
      values: parsed.values as CommandContext["values"],
      args,
      print: io.stdout,
      warn: io.stderr,
      signal: io.signal ?? controller.signal,
      cwd: io.cwd,
    };
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`chronicle: ${err.message}`);
      return ExitCode.UsageError;
    }
    if (isChronicleError(err)) {
      io.stderr(`chronicle: ${err.message} [${err.code}]`);
      return ExitCode.UsageError;
    }
    io.stderr(`chronicle: ${path.join(" ")} failed: ${(err as Error)?.stack ?? String(err)}`);
    return ExitCode.UsageError;
  }
}
