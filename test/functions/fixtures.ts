/**
 * Factories of the functions tests: a client on a fresh memory namespace,
 * a logger that records, and a runner that every test stops afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createSwitchyard } from '../../src/core/client.ts';
import type { LogFields, Logger } from '../../src/core/logger.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import type { Pipeline } from '../../src/functions/define-pipeline.ts';
import {
  type RunningPipeline,
  type RunPipelineOptions,
  runPipeline,
} from '../../src/functions/run-pipeline.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';

/** Backoff short enough that retries happen at once. */
export const fastBackoff = { initialDelayMs: 1, maxDelayMs: 5 };

/** One line a {@link RecordingLogger} received. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps its lines for assertions. */
export interface RecordingLogger extends Logger {
  readonly lines: LogLine[];
  at(level: LogLine['level']): LogLine[];
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const make = (base: LogFields): Logger => {
    const write =
      (level: LogLine['level']) =>
      (message: string, fields: LogFields = {}) => {
        lines.push({ level, message, fields: { ...base, ...fields } });
      };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };

  return {
    ...make({}),
    lines,
    at: (level) => lines.filter((line) => line.level === level),
  };
}

/**
 * What one test opened: clients (each on its own memory namespace
 * unless one is shared) and running pipelines, all released by
 * {@link Harness.release}.
 */
export class Harness {
  readonly logger = recordingLogger();
  readonly namespace = randomUUID();
  readonly #clients: Switchyard[] = [];
  readonly #running: RunningPipeline[] = [];

  /**
   * A client on this test's namespace (clients of one test share it),
   * logging to the test's logger. `dedupWindowMs: 0` lets a re-publish
   * of one id through.
   */
  async client(options: { dedupWindowMs?: number } = {}): Promise<Switchyard> {
    const provider = await createMemoryProvider({
      namespace: this.namespace,
      ...options,
    });
    const client = createSwitchyard({ provider, logger: this.logger });
    this.#clients.push(client);
    return client;
  }

  /** Runs `pipeline` on `client` (default a new one) with the logger. */
  async run(
    pipeline: Pipeline,
    options: Partial<RunPipelineOptions> = {},
  ): Promise<{ running: RunningPipeline; client: Switchyard }> {
    const client = options.switchyard ?? (await this.client());
    const running = await runPipeline(pipeline, {
      logger: this.logger,
      ...options,
      switchyard: client,
    });
    this.#running.push(running);
    return { running, client };
  }

  /** Stops the pipelines, then closes the clients. */
  async release(): Promise<void> {
    await Promise.all(
      this.#running.splice(0).map((r) => r.stop({ timeoutMs: 1000 })),
    );
    await Promise.all(this.#clients.splice(0).map((c) => c.close()));
  }
}
