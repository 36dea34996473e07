/**
 * Reading the command line: global options, the command's words, then the
 * command's own options and arguments with `node:util` `parseArgs`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Command, OptionSpecs } from './command.ts';
import { UsageError } from './errors.ts';
import { Options, type OptionValues } from './options.ts';

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  json: {
    type: 'boolean',
    description: 'print results as JSON, one object per line',
  },
  verbose: {
    type: 'boolean',
    description: 'log debug detail and show stack traces on failure',
  },
  config: {
    type: 'string',
    value: 'FILE',
    description: 'read the configuration from FILE (as SWITCHYARD_CONFIG)',
  },
  provider: {
    type: 'string',
    value: 'NAME',
    description: 'use provider NAME for every part (as SWITCHYARD_PROVIDER)',
  },
  help: { type: 'boolean', short: 'h', description: 'show usage and exit' },
  version: { type: 'boolean', description: 'show the version and exit' },
};

/** The global options' values. */
export interface Globals {
  json: boolean;
  verbose: boolean;
  config?: string;
  provider?: string;
}

/** What the command line asks for. */
export type CommandLine =
  /** Usage of the program, a group (`kv`) or a command (`kv get`). */
  | { kind: 'help'; topic: readonly string[] }
  | { kind: 'version' }
  | {
      kind: 'run';
      command: Command;
      args: string[];
      options: Options;
      globals: Globals;
    };

/**
 * Parses `argv` (without the node and script paths) against `commands`.
 * Throws a UsageError for an unknown command or option, a missing option
 * value, or too few or too many arguments.
 *
 * @example
 * parseCommandLine(['kv', 'get', 'config', 'mode'], COMMANDS);
 * // { kind: 'run', command: <kv get>, args: ['config', 'mode'], ... }
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly Command[],
): CommandLine {
  const { words, rest } = splitWords(argv, groupsOf(commands));
  if (words.length === 0) {
    const { values } = parseGlobals(rest);
    return values.version === true && values.help !== true
      ? { kind: 'version' }
      : { kind: 'help', topic: [] };
  }
  if (words[0] === 'help') {
    return { kind: 'help', topic: parseLoosely(rest).positionals };
  }

  const command = findCommand(words, commands, rest);
  if (command === undefined) return { kind: 'help', topic: words };
  const { values, positionals } = parseStrictly(command, rest);
  if (values.help === true) return { kind: 'help', topic: words };
  if (values.version === true) return { kind: 'version' };

  checkArgs(command, positionals);

  return {
    kind: 'run',
    command,
    args: positionals,
    options: new Options(values, command.name),
    globals: {
      json: values.json === true,
      verbose: values.verbose === true,
      ...(typeof values.config === 'string' && { config: values.config }),
      ...(typeof values.provider === 'string' && {
        provider: values.provider,
      }),
    },
  };
}

/** The names of command groups: the first word of `kv get`. */
export function groupsOf(commands: readonly Command[]): Set<string> {
  const groups = new Set<string>();
  for (const command of commands) {
    const [first, second] = command.name.split(' ');
    if (second !== undefined) groups.add(first!);
  }
  return groups;
}

/**
 * How many arguments `args` takes: `<x>` counts as required, `[x]` as
 * optional, and a trailing `...` allows any number more.
 */
export function argCounts(args = ''): { min: number; max: number } {
  const parts = args.split(/\s+/).filter((part) => part !== '');
  const min = parts.filter((part) => part.startsWith('<')).length;
  const max = args.trim().endsWith('...')
    ? Number.POSITIVE_INFINITY
    : parts.length;
  return { min, max };
}

/**
 * The command's words (`kv`, `get`) and everything else. Only global
 * options may come before the words, so that a value such as the FILE of
 * `--config FILE` is not taken for a command.
 */
function splitWords(
  argv: readonly string[],
  groups: ReadonlySet<string>,
): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const token = argv[index]!;
    if (token === '--') break;
    if (token.startsWith('-') && token !== '-') {
      rest.push(token);
      if (takesValue(token) && argv[index + 1] !== undefined) {
        rest.push(argv[index + 1]!);
        index++;
      }
      index++;
      continue;
    }
    words.push(token);
    index++;
    if (words.length === 2 || !groups.has(words[0]!)) break;
  }
  rest.push(...argv.slice(index));

  return { words, rest };
}

function takesValue(token: string): boolean {
  if (token.includes('=')) return false;
  const name = token.replace(/^--?/, '');
  return GLOBAL_OPTIONS[name]?.type === 'string';
}

function findCommand(
  words: readonly string[],
  commands: readonly Command[],
  rest: readonly string[],
): Command | undefined {
  const name = words.join(' ');
  const command = commands.find((c) => c.name === name);
  if (command !== undefined) return command;

  const group = words[0]!;
  const members = commands
    .filter((c) => c.name.startsWith(`${group} `))
    .map((c) => c.name.slice(group.length + 1));
  if (members.length === 0) {
    throw new UsageError(
      `unknown command '${group}' (run switchyard --help for the list)`,
    );
  }
  if (words.length === 1) {
    if (parseLoosely(rest).values.help === true) return undefined;
    throw new UsageError(
      `${group} needs a command: ${members.join(', ')} (run switchyard help ${group})`,
    );
  }
  throw new UsageError(
    `unknown command '${name}': ${group} commands are ${members.join(', ')}`,
  );
}

function parseStrictly(
  command: Command,
  args: string[],
): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: toParseArgs({ ...GLOBAL_OPTIONS, ...command.options }),
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw usageOf(error, command.name);
  }
}

/** The global options alone, as given without a command. */
function parseGlobals(args: readonly string[]): { values: OptionValues } {
  try {
    const parsed = parseArgs({
      args: [...args],
      options: toParseArgs(GLOBAL_OPTIONS),
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
    return { values: parsed.values };
  } catch (error) {
    const option = /'(-[^' ]+)/.exec(String(error))?.[1] ?? 'an option';
    throw new UsageError(`unknown option ${option} (run switchyard --help)`);
  }
}

function parseLoosely(args: readonly string[]): {
  values: OptionValues;
  positionals: string[];
} {
  const parsed = parseArgs({
    args: [...args],
    options: toParseArgs(GLOBAL_OPTIONS),
    allowPositionals: true,
    strict: false,
  });
  return { values: parsed.values, positionals: parsed.positionals };
}

function toParseArgs(specs: OptionSpecs): ParseArgsConfig['options'] {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.multiple !== undefined && { multiple: spec.multiple }),
        ...(spec.short !== undefined && { short: spec.short }),
      },
    ]),
  );
}

/** A `parseArgs` failure as a short usage error naming the option. */
function usageOf(error: unknown, command: string): UsageError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? 'an option';
  const help = `(run switchyard help ${command})`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return new UsageError(`unknown option ${option} for ${command} ${help}`, {
      command,
    });
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const detail = message.includes('argument missing')
      ? 'needs a value'
      : 'takes no value';
    return new UsageError(`option ${option} ${detail} ${help}`, { command });
  }
  return new UsageError(`${message.split('. ')[0]} ${help}`, { command });
}

function checkArgs(command: Command, args: readonly string[]): void {
  const { min, max } = argCounts(command.args);
  const usage = `switchyard ${command.name} ${command.args ?? ''}`.trim();
  if (args.length < min) {
    const missing = (command.args ?? '')
      .split(/\s+/)
      .filter((part) => part.startsWith('<'))[args.length];
    throw new UsageError(`missing ${missing} (usage: ${usage})`, {
      command: command.name,
    });
  }
  if (args.length > max) {
    throw new UsageError(
      `too many arguments: ${JSON.stringify(args[max])} is unexpected (usage: ${usage})`,
      { command: command.name },
    );
  }
}
