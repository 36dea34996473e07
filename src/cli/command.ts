/**
 * What a command is: its name, arguments and options as the usage shows
 * them, and the function that runs it with a {@link CommandContext}.
 */
import type { Logger } from '../core/logger.ts';
import type { Switchyard } from '../core/switchyard.ts';
import type { Options } from './options.ts';
import type { Output } from './output.ts';

/** An option of a command, as `parseArgs` reads it and help shows it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Whether the option may be given several times. */
  multiple?: boolean;
  /** One-letter alias, without the dash. */
  short?: string;
  /** Placeholder of the value in the help, e.g. `N`. */
  value?: string;
  /** One line for the help. */
  description: string;
}

/** Options of a command by long name. */
export type OptionSpecs = Record<string, OptionSpec>;

/** A command of the `switchyard` program. */
export interface Command {
  /** The words that name it: `publish`, `kv get`. */
  name: string;
  /**
   * Its arguments as the usage line shows them: `<x>` is required, `[x]`
   * optional, a trailing `...` repeats the last one.
   */
  args?: string;
  /** One line for the list of commands. */
  summary: string;
  /** Paragraphs shown below the usage by `help <command>`. */
  details?: string;
  options?: OptionSpecs;
  /**
   * Runs the command. Resolving means success (exit code 0); a failure is
   * thrown, and the program reports it in one line.
   */
  run(context: CommandContext): Promise<void>;
}

/** What a running command receives. */
export interface CommandContext {
  /** The command's positional arguments, checked against `args`. */
  readonly args: readonly string[];
  readonly options: Options;
  readonly output: Output;
  /** The logger given to the library; silent below `warn` by default. */
  readonly logger: Logger;
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  readonly verbose: boolean;
  /**
   * The client, connected on first call with the configuration the global
   * flags select; closed by the program once the command ends.
   */
  client(): Promise<Switchyard>;
  /** Where the client's configuration comes from: the file and variables. */
  readonly configSource: ConfigSource;
}

/** The configuration file named by the flags (if any) and the environment. */
export interface ConfigSource {
  readonly file?: string;
  readonly env: Record<string, string | undefined>;
}

/**
 * Declares a command; a typed identity, so that the table of commands
 * reads as data.
 */
export function defineCommand(command: Command): Command {
  return command;
}
