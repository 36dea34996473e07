/**
 * Child processes that report what they do as one JSON object per line on
 * stdout, for the tests that kill a producer or a consumer: start one,
 * wait for a report, read every report so far, and kill it with SIGKILL
 * by its process id.
 *
 * Writes to a pipe are synchronous on Linux, so a line the child wrote
 * before it was killed is read by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { eventually } from '../../src/testkit/helpers.ts';

/** One line a child reported. */
export type Report = Record<string, unknown>;

/** A running child process and what it reported. */
export interface ReportingChild {
  readonly process: ChildProcess;
  /** Every report so far, in the order written. */
  readonly reports: Report[];
  /** What the child wrote on stderr, its last 8000 characters. */
  stderr(): string;
  /**
   * Resolves with the first report (past or future) that has `field`.
   * Rejects with what the child wrote on stderr if it exits first, and
   * with an error naming the field after `timeoutMs` (default 15000).
   */
  next(field: string, timeoutMs?: number): Promise<Report>;
  /** The values of `field` in every report that has it, in order. */
  values<T = unknown>(field: string): T[];
  /** Kills the child with SIGKILL and waits until it is gone. */
  kill(): Promise<void>;
}

/** Children started by this process that have not exited. */
const running = new Set<ChildProcess>();

// A test process that ends without killing its children (a hook that
// timed out, a worker torn down) takes them with it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs `node script ...args` with this process's Node binary and reads
 * its reports. `name` says which child it is in errors.
 *
 * @example
 * ```ts
 * const child = startReportingChild('child.ts', ['produce'], 'producer');
 * await child.next('ready');
 * await child.kill();
 * ```
 */
export function startReportingChild(
  script: string,
  args: readonly string[],
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): ReportingChild {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  running.add(child);
  const reports: Report[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-8000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      reports.push(JSON.parse(line) as Report);
    } catch {
      stderr = `${stderr}\nnot a report on stdout: ${line}`.slice(-8000);
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );

  return {
    process: child,
    reports,
    stderr: () => stderr,
    next: (field, timeoutMs = 15_000) =>
      eventually(
        () => {
          const report = reports.find((r) => field in r);
          if (report !== undefined) return report;
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(
              `child ${name} exited (${child.exitCode ?? child.signalCode}) before reporting ${field}: ${stderr}`,
            );
          }
          return false;
        },
        {
          timeoutMs,
          intervalMs: 10,
          message: `child ${name} reporting ${field}`,
        },
      ),
    values: <T>(field: string) =>
      reports.flatMap((r) => (field in r ? [r[field] as T] : [])),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGKILL');
      }
      await exited;
    },
  };
}
