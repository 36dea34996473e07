/** The help texts: of the program, of a group of commands, of a command. */
import type { Command, OptionSpecs } from './command.ts';
import { UsageError } from './errors.ts';
import { GLOBAL_OPTIONS } from './parse.ts';

const ABOUT =
  'Switchyard: channels, key-value and object buckets and functions on the configured provider (local by default, in .switchyard/).';

const HELP: Command = {
  name: 'help',
  args: '[command]',
  summary: 'Show the usage of the program or of a command',
  run: async () => {},
};

/**
 * The help of `topic`: the program's for no words, a group's for `kv`, a
 * command's for `kv get`. A UsageError for an unknown topic.
 */
export function formatHelp(
  topic: readonly string[],
  commands: readonly Command[],
): string {
  const name = topic.join(' ');
  if (name === '') return programHelp(commands);
  const command = commands.find((c) => c.name === name);
  if (command !== undefined) return commandHelp(command);
  const members = commands.filter((c) => c.name.startsWith(`${name} `));
  if (members.length > 0) return groupHelp(name, members);
  throw new UsageError(
    `unknown command '${name}' (run switchyard --help for the list)`,
  );
}

function programHelp(commands: readonly Command[]): string {
  return [
    'Usage: switchyard <command> [options]',
    '',
    ABOUT,
    '',
    'Commands:',
    ...listCommands([...commands, HELP]),
    '',
    'Global options:',
    ...listOptions(GLOBAL_OPTIONS),
    '',
    'Configuration comes from switchyard.config.json (or .ts) and SWITCHYARD_* variables.',
    "Run 'switchyard help <command>' for a command's options.",
  ].join('\n');
}

function groupHelp(group: string, members: readonly Command[]): string {
  return [
    `Usage: switchyard ${group} <command> [options]`,
    '',
    'Commands:',
    ...listCommands(members),
    '',
    `Run 'switchyard help ${group} <command>' for a command's options.`,
  ].join('\n');
}

function commandHelp(command: Command): string {
  const args = command.args === undefined ? '' : ` ${command.args}`;
  const lines = [
    `Usage: switchyard ${command.name}${args} [options]`,
    '',
    command.summary,
  ];
  if (command.details !== undefined) lines.push('', command.details);
  if (command.options !== undefined) {
    lines.push('', 'Options:', ...listOptions(command.options));
  }
  lines.push('', 'Global options:', ...listOptions(GLOBAL_OPTIONS));

  return lines.join('\n');
}

function listCommands(commands: readonly Command[]): string[] {
  const rows = commands.map((c) => [
    c.args === undefined ? c.name : `${c.name} ${c.args}`,
    c.summary,
  ]);
  return columns(rows);
}

function listOptions(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const short = spec.short === undefined ? '' : `-${spec.short}, `;
    const value = spec.value === undefined ? '' : ` ${spec.value}`;
    const repeat = spec.multiple === true ? ' ...' : '';
    return [`${short}--${name}${value}${repeat}`, spec.description];
  });
  return columns(rows);
}

function columns(rows: readonly string[][]): string[] {
  const width = Math.max(...rows.map((row) => row[0]!.length));
  return rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`);
}
