/**
 * Running the `switchyard` command as a child process in a temporary
 * folder, with its own data folder, as a user would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The program's entry point. */
export const BIN = join(import.meta.dirname, '../../src/cli/bin.ts');

/** The reference pipeline's module. */
export const REFERENCE_PIPELINE = join(
  import.meta.dirname,
  '../../functions/pipeline.ts',
);

/** What a finished run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string | Uint8Array;
  /** Variables added to the child's environment. */
  env?: Record<string, string>;
}

/** A running child, for commands that run until stopped. */
export interface RunningCli {
  readonly process: ChildProcess;
  /** Resolves with the result once it exits by itself. */
  readonly result: Promise<CliResult>;
  /** Resolves once stdout holds `text`. */
  waitForOutput(text: string): Promise<void>;
  /** Sends `signal` and resolves with the result once it exits. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/**
 * A temporary working folder (with the data folder inside) for the
 * commands of one test, removed by {@link CliFixture.release}.
 */
export class CliFixture {
  #folder: string | undefined;
  readonly #children: ChildProcess[] = [];

  /** The working folder of the commands; created on first use. */
  async folder(): Promise<string> {
    this.#folder ??= await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
    return this.#folder;
  }

  /** Runs `switchyard ...args` to its end. */
  async run(
    args: readonly string[],
    options: RunOptions = {},
  ): Promise<CliResult> {
    return (await this.#spawn(args, options)).result;
  }

  /** Starts `switchyard ...args` and returns while it runs. */
  async start(
    args: readonly string[],
    options: RunOptions = {},
  ): Promise<RunningCli> {
    const { child, output, result } = await this.#spawn(args, options);
    return {
      process: child,
      result,
      waitForOutput: (text) =>
        new Promise<void>((resolve, reject) => {
          const look = () => {
            if (output.stdout.includes(text)) resolve();
          };
          child.stdout!.on('data', look);
          child.once('exit', () =>
            output.stdout.includes(text)
              ? resolve()
              : reject(new Error(`exited before printing ${text}`)),
          );
          look();
        }),
      stop: (signal = 'SIGINT') => {
        child.kill(signal);
        return result;
      },
    };
  }

  /** Kills what is still running and removes the folder. */
  async release(): Promise<void> {
    for (const child of this.#children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    this.#children.length = 0;
    if (this.#folder !== undefined) {
      await rm(this.#folder, { recursive: true, force: true });
      this.#folder = undefined;
    }
  }

  async #spawn(args: readonly string[], options: RunOptions) {
    const cwd = await this.folder();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: {
        ...withoutSwitchyard(process.env),
        SWITCHYARD_LOCAL_DATA_DIR: join(cwd, 'data'),
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#children.push(child);
    const output = collect(child);
    const result = new Promise<CliResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, ...output }));
    });
    child.stdin.end(options.input);
    return { child, output, result };
  }
}

/** The lines of `text` that hold something. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** Each line of `text` parsed as JSON. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return lines(text).map((line) => JSON.parse(line));
}

function collect(child: ChildProcess) {
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  return output;
}

function withoutSwitchyard(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith('SWITCHYARD_')),
  );
}
