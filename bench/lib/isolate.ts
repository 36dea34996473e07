/**
 * Each scenario runs in a child process of its own, so that one starts
 * with the heap, the JIT and the memory figures of a fresh process rather
 * than with what the scenarios before it left behind.
 */
import { fork } from 'node:child_process';
import type { ScenarioReport } from './scenario.ts';

/** What a child sends back before it exits. */
export type ChildMessage =
  | { ok: true; report: ScenarioReport }
  | { ok: false; error: string };

/**
 * Runs `entry` (the benchmark's own script) with `args` in a child with
 * the parent's Node options plus `--expose-gc` (so that memory can be
 * read after a full collection), and resolves with the report the child
 * sends. Rejects with the child's error, or if it exits without a report.
 */
export function runInChild(
  entry: string,
  args: readonly string[],
): Promise<ScenarioReport> {
  return new Promise((resolve, reject) => {
    const child = fork(entry, args, {
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer: ChildMessage | undefined;

    child.on('message', (message) => {
      answer = message as ChildMessage;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.report);
      else if (answer !== undefined) reject(new Error(answer.error));
      else {
        const how = signal === null ? `code ${code}` : `signal ${signal}`;
        reject(new Error(`the scenario's process exited with ${how}`));
      }
    });
  });
}

/** Sends `message` to the parent and resolves once it was handed over. */
export function sendToParent(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('not started as a child of the benchmark'));
      return;
    }
    process.send(message, undefined, {}, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}
