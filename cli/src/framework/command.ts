/** Exit codes of every `chronicle` command. */
export const ExitCode = {
  Ok: 0,
  /** A check ran and failed (incompatible schema, lag over a limit, ...). */
  CheckFailed: 1,
  /** The command line or an input was wrong, or something needed was unreachable. */
  UsageError: 2,
} as const;

/** One option of a command, parsed with `node:util` `parseArgs`. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in help: what the option does and, for strings, what it accepts. */
  description: string;
  /** Placeholder of the value in help (`PORT`, `DIR`). */
  valueName?: string;
  default?: string | boolean;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Takes every remaining argument. */
  variadic?: boolean;
}

/** What a command's `run` receives. */
export interface CommandContext {
  /** Parsed option values by long name. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Positional arguments by name (variadic ones as arrays). */
  args: Record<string, string | string[] | undefined>;
  /** Writes a line to stdout. */
  print(line: string): void;
  /** Writes a line to stderr. */
  warn(line: string): void;
  /** Aborted when the user presses Ctrl-C (SIGINT) or sends SIGTERM. */
  signal: AbortSignal;
  /** Working directory the command runs in. */
  cwd: string;
}

/**
 * A `chronicle` command or command group. A group has `subcommands` and no
 * `run`; a leaf has `run`, which returns the exit code.
 */
export interface Command {
  name: string;
  summary: string;
  description?: string;
  options?: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  subcommands?: Command[];
  /** Examples shown at the end of the help text. */
  examples?: string[];
  run?(ctx: CommandContext): Promise<number>;
}

/** A wrong command line: the message says what was wrong and what is accepted. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses an integer option within a range, or throws a {@link UsageError} naming the option. */
export function intOption(value: unknown, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}
