/** Exit codes of every `chronicle` command. */
export const ExitCode = {
  Ok: 0,
  /** A check ran and failed (incompatible schema, lag over a limit, pending stream changes with --exit-code, ...). */
  CheckFailed: 1,
  /** The command line or an input was wrong, or something needed was unreachable. */
  UsageError: 2,
  /** An unexpected error inside Chronicle (a bug): the message carries a stack trace. 70 is `EX_SOFTWARE` of sysexits.h. */
  InternalError: 70,
} as const;

/** What every option spec has. */
interface OptionSpecBase {
  readonly short?: string;
  /** Shown in help: what the option does and, for values, what it accepts. */
  readonly description: string;
  /** Placeholder of the value in help (`PORT`, `DIR`). */
  readonly valueName?: string;
}

/** A flag: `true` when given. */
export interface BooleanOptionSpec extends OptionSpecBase {
  readonly type: "boolean";
}

/** A text value; `multiple` collects every occurrence. */
export interface StringOptionSpec extends OptionSpecBase {
  readonly type: "string";
  readonly multiple?: boolean;
  /** Value when the option is not given (shown in help). */
  readonly default?: string;
}

/**
 * An integer value within `min`..`max`, checked while the command line is
 * parsed, before the command's code is loaded: a wrong value is a usage
 * error naming the option and the range.
 */
export interface IntegerOptionSpec extends OptionSpecBase {
  readonly type: "integer";
  readonly min: number;
  readonly max: number;
  /** Value when the option is not given (shown in help). */
  readonly default?: number;
}

/** One option of a command, parsed with `node:util` `parseArgs`. */
export type OptionSpec = BooleanOptionSpec | StringOptionSpec | IntegerOptionSpec;

/** The options of a command by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** One positional argument of a command. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Takes every remaining argument. */
  readonly variadic?: boolean;
}

/**
 * The value a command receives for an option, typed from its spec: a
 * boolean is `true` or `false` (absent), an integer a number, a `multiple`
 * string an array (empty when absent); a string or integer with a `default`
 * is always there, any other `undefined` when absent.
 */
export type OptionValue<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean
  : S extends { readonly multiple: true }
    ? string[]
    : S["type"] extends "integer"
      ? S extends { readonly default: number }
        ? number
        : number | undefined
      : S extends { readonly default: string }
        ? string
        : string | undefined;

/** Parsed option values by long name, typed from the specs. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> };

/** Positional arguments by name, typed from the specs: variadic ones as arrays, optional ones possibly `undefined`. */
export type ArgValues<P extends readonly PositionalSpec[]> = {
  readonly [S in P[number] as S["name"]]: S extends { readonly variadic: true }
    ? string[]
    : S extends { readonly required: true }
      ? string
      : string | undefined;
};

/** What a command's implementation receives. */
export interface CommandContext<O extends OptionSpecs = OptionSpecs, P extends readonly PositionalSpec[] = readonly PositionalSpec[]> {
  /** Parsed option values by long name. */
  readonly values: OptionValues<O>;
  /** Positional arguments by name. */
  readonly args: ArgValues<P>;
  /** Writes a line to stdout. */
  print(line: string): void;
  /** Writes a line to stderr. */
  warn(line: string): void;
  /** Aborted when the user presses Ctrl-C (SIGINT) or sends SIGTERM. */
  readonly signal: AbortSignal;
  /** Working directory the command runs in. */
  readonly cwd: string;
}

/**
 * A command's implementation: runs it and returns the exit code. Declared
 * through a method so that a command with typed options fits the untyped
 * {@link Command} of the tree.
 */
export type CommandAction<C> = { bivariant(ctx: C): Promise<number> }["bivariant"];

/**
 * A `chronicle` command or command group: its spec (name, options, help)
 * and, for a leaf, `load`, which imports the implementation. The tree of
 * specs is all that `--help`, `--version` and parsing need, so a command
 * line loads only the code of the command it runs.
 */
export interface CommandSpec<O extends OptionSpecs = OptionSpecs, P extends readonly PositionalSpec[] = readonly PositionalSpec[]> {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options?: O;
  readonly positionals?: P;
  readonly subcommands?: readonly Command[];
  /** Examples shown at the end of the help text. */
  readonly examples?: readonly string[];
  /** Imports the implementation; called only when this command runs. */
  load?(): Promise<CommandAction<CommandContext<O, P>>>;
  /**
   * Called with the parsed command line beside {@link load}: starts work
   * that needs none of the implementation's code (a child process), so
   * that it runs while that code loads; the command runs once both are
   * done. Leaves every error of the command line to the implementation.
   */
  prepare?(ctx: CommandContext<O, P>): Promise<void>;
}

/** A command of the tree, options erased. */
export type Command = CommandSpec;

/**
 * Declares a command: checks that `load` imports an implementation taking
 * the context its options and positionals describe, and returns it as a
 * {@link Command} of the tree. Declare the options and positionals as
 * constants beside it, so the implementation's context type
 * (`CommandContext<typeof options, typeof positionals>`) does not depend on
 * the command itself.
 */
export function defineCommand<const O extends OptionSpecs = Record<never, OptionSpec>, const P extends readonly PositionalSpec[] = readonly []>(
  spec: CommandSpec<O, P>,
): Command {
  return spec;
}

/** A wrong command line: the message says what was wrong and what is accepted. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses an integer within a range, or throws a {@link UsageError} naming
 * where it came from (`--port`, `<seq>`). Undefined stays undefined.
 */
export function intOption(value: string | undefined, label: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${label} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}
