/**
 * The command's logger: the core `Logger` written to stderr, one line per
 * entry as `level message key=value ...`, below a minimum level dropped.
 */
import type { LogFields, Logger } from '../core/logger.ts';

/** Severity of a log entry, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of {@link createStderrLogger}. */
export interface StderrLoggerOptions {
  /** Entries below this level are dropped. Default `warn`. */
  level?: LogLevel;
  /** Where lines go. Default: the process's stderr. */
  write?: (line: string) => void;
  /** Fields added to every entry. */
  fields?: LogFields;
}

/**
 * A logger that writes to stderr. A field that is an Error is written as
 * its message; objects as JSON; strings with spaces or quotes quoted.
 *
 * @example
 * const logger = createStderrLogger({ level: 'debug' });
 * logger.child({ channel: 'orders' }).info('started', { group: 'g' });
 * // info started channel=orders group=g
 */
export function createStderrLogger(options: StderrLoggerOptions = {}): Logger {
  const minimum = RANK[options.level ?? 'warn'];
  const write =
    options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};

  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < minimum) return;
    const all = fields === undefined ? base : { ...base, ...fields };
    write(`${level} ${message}${formatFields(all)}`);
  };

  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    child: (fields) =>
      createStderrLogger({
        ...options,
        write,
        fields: { ...base, ...fields },
      }),
  };
}

/** ` key=value key=value`, or nothing when there are no fields. */
export function formatFields(fields: LogFields): string {
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    text += ` ${key}=${formatField(value)}`;
  }
  return text;
}

function formatField(value: unknown): string {
  if (value instanceof Error) return quote(value.message);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return quote(String(value));
    }
  }
  return String(value);
}

function quote(text: string): string {
  return /^[^\s"=]*$/.test(text) && text !== '' ? text : JSON.stringify(text);
}
