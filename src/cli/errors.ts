/**
 * How the command reports a failure: one line that says what failed and
 * why, and an exit code: 2 when the command line itself is wrong, 1 when
 * the command ran and failed.
 */
import { NotFoundError, SwitchyardError } from '../core/errors.ts';

/** Exit code of a command that succeeded. */
export const EXIT_OK = 0;
/** Exit code of a command that ran and failed. */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that could not be understood. */
export const EXIT_USAGE = 2;

/**
 * The command line is wrong: an unknown command or option, a missing or
 * extra argument, an option value of the wrong kind, data that does not
 * parse. Exits with {@link EXIT_USAGE}.
 */
export class UsageError extends Error {
  /** The command whose usage to point at, e.g. `kv get`. */
  readonly command: string | undefined;

  constructor(message: string, options: { command?: string } = {}) {
    super(message);
    this.name = 'UsageError';
    this.command = options.command;
  }
}

/**
 * The command ran and failed for a reason it already explained, such as
 * some messages of a batch not being published. Exits with
 * {@link EXIT_FAILURE}.
 */
export class CommandError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'CommandError';
  }
}

/** The exit code for `error`. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * `error` as one line without the program name: the message, with a
 * missing resource named in words and line breaks folded.
 *
 * @example
 * describeFailure(new NotFoundError('channel', 'nope'));
 * // "channel 'nope' does not exist"
 */
export function describeFailure(error: unknown): string {
  const text =
    error instanceof NotFoundError
      ? describeMissing(error)
      : error instanceof Error
        ? error.message || error.name
        : `unexpected failure: ${String(error)}`;

  return oneLine(text);
}

/** The error's stack, and those of its causes, for `--verbose`. */
export function describeStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (!(current instanceof Error)) {
      parts.push(`thrown value: ${String(current)}`);
      break;
    }
    parts.push(current.stack ?? `${current.name}: ${current.message}`);
    if (current instanceof SwitchyardError) {
      const details = JSON.stringify(current.details);
      if (details !== '{}') parts.push(`details: ${details}`);
    }
    current = current.cause;
    if (current !== undefined) parts.push('caused by:');
  }
  return parts.join('\n');
}

function describeMissing(error: NotFoundError): string {
  const bucket = error.details.bucket;
  if (error.message !== `${error.kind} '${error.resource}' does not exist`) {
    return error.message;
  }
  switch (error.kind) {
    case 'kv-bucket':
      return `key-value bucket '${error.resource}' does not exist`;
    case 'object-bucket':
      return `object bucket '${error.resource}' does not exist`;
    case 'object': {
      const prefix = typeof bucket === 'string' ? `${bucket}/` : '';
      const name = error.resource.startsWith(prefix)
        ? error.resource.slice(prefix.length)
        : error.resource;
      return bucket === undefined
        ? `object '${name}' does not exist`
        : `object '${name}' does not exist in bucket '${bucket}'`;
    }
    case 'dead-letter':
      return `dead letter '${error.resource}' does not exist`;
    default:
      return error.message;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
