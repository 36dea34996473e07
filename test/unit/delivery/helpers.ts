import { randomUUID } from 'node:crypto';
import { createSwitchyard } from '../../../src/core/client.ts';
import type { LogFields, Logger } from '../../../src/core/logger.ts';
import type { Provider } from '../../../src/core/provider.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { createMemoryProvider } from '../../../src/providers/memory/index.ts';

/** Backoff short enough that retries happen at once in tests. */
export const fastBackoff = { initialDelayMs: 1, maxDelayMs: 5 };

/** One line a {@link RecordingLogger} received. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps what it is given, for assertions. */
export interface RecordingLogger extends Logger {
  readonly entries: LogEntry[];
  at(level: LogEntry['level']): LogEntry[];
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const make = (base: LogFields): Logger => {
    const write =
      (level: LogEntry['level']) =>
      (message: string, fields: LogFields = {}) => {
        entries.push({ level, message, fields: { ...base, ...fields } });
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
    entries,
    at: (level) => entries.filter((e) => e.level === level),
  };
}

/** A memory provider of its own namespace, so tests do not share state. */
export async function memoryProvider(
  options: { dedupWindowMs?: number; maxPayloadBytes?: number } = {},
): Promise<Provider> {
  return createMemoryProvider({ namespace: randomUUID(), ...options });
}

/** A client on a fresh memory provider. */
export async function memoryClient(
  options: { logger?: Logger; dedupWindowMs?: number } = {},
): Promise<{ client: Switchyard; provider: Provider }> {
  const provider = await memoryProvider(
    options.dedupWindowMs === undefined
      ? {}
      : { dedupWindowMs: options.dedupWindowMs },
  );
  const client = createSwitchyard({
    provider,
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  return { client, provider };
}

/** Polls `check` until it returns true; fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise with its resolver, to hold a handler until a test lets go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
