/**
 * The logger Switchyard writes through. Library code never prints: it logs
 * through the logger it was given, which is silent by default.
 *
 * Levels: `error` for a message dead-lettered or dropped, `warn` for a
 * misconfiguration (once), `info` for start, stop and switch, `debug` for
 * per-message detail. Fields are camelCase. Payloads and credentials are
 * never logged at `info` or above.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to everything it logs. */
  child(fields: LogFields): Logger;
}

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

const noop = (): void => {};

/** A logger that discards everything: the default. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
