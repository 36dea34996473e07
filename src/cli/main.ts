/**
 * The `switchyard` program: parses the command line, runs the command,
 * and turns a failure into one line on stderr and an exit code.
 */
import { readFileSync } from 'node:fs';
import type { Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import {
  describeFailure,
  describeStack,
  EXIT_OK,
  exitCodeOf,
} from './errors.ts';
import { createStderrLogger } from './logger.ts';
import { createOutput } from './output.ts';
import { parseCommandLine } from './parse.ts';
import { openSession } from './session.ts';
import { formatHelp } from './usage.ts';

/**
 * Runs the program with `argv` (the arguments after the script path) and
 * resolves with the exit code: 0 on success, 1 when the command failed,
 * 2 when the command line or its data is malformed. Never rejects.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(
  argv: readonly string[],
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const line = parseCommandLine(argv, commands);
    if (line.kind === 'help') {
      process.stdout.write(`${formatHelp(line.topic, commands)}\n`);
      return EXIT_OK;
    }
    if (line.kind === 'version') {
      process.stdout.write(`${version()}\n`);
      return EXIT_OK;
    }

    const { command, args, options, globals } = line;
    const logger = createStderrLogger({
      level: globals.verbose ? 'debug' : 'warn',
    });
    const session = openSession(globals, logger);
    try {
      await command.run({
        args,
        options,
        output: createOutput(globals.json),
        logger,
        signal: session.signal,
        verbose: globals.verbose,
        client: () => session.client(),
        configSource: session.configSource,
      });
      await session.close();
      return EXIT_OK;
    } catch (error) {
      await session.close().catch((closeError: unknown) => {
        if (verbose) report(closeError, verbose);
      });
      throw error;
    }
  } catch (error) {
    report(error, verbose);
    return exitCodeOf(error);
  }
}

function report(error: unknown, verbose: boolean): void {
  process.stderr.write(`switchyard: ${describeFailure(error)}\n`);
  if (verbose) process.stderr.write(`${describeStack(error)}\n`);
}

function version(): string {
  const url = new URL('../../package.json', import.meta.url);
  const manifest = JSON.parse(readFileSync(url, 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}
