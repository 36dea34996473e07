/**
 * Pieces every part of the local provider uses: its name, its error
 * helpers, and the translation of SQLite failures into Switchyard errors.
 */
import {
  SwitchyardError,
  TransportUnavailableError,
} from '../../core/errors.ts';
import { providerErrors } from '../../core/provider-kit.ts';

/** Name of the provider, as configuration spells it. */
export const PROVIDER = 'local';

/** SQLite result codes that say the database may work again later. */
const TRANSIENT =
  /^(SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)|ENOSPC|EMFILE|ENFILE|EIO|EBUSY|EAGAIN)/;

const errors = providerErrors(PROVIDER);

/** A NotFoundError raised by this provider. */
export const notFound = errors.notFound;

/** A ConflictError raised by this provider. */
export const conflict = errors.conflict;

/** The ClosedError of an operation attempted after `close()`. */
export const closed = errors.closed;

/**
 * Turns an error thrown by SQLite or the filesystem into a Switchyard
 * error: a busy or locked database, a full disk or an I/O failure becomes
 * a retryable TransportUnavailableError, anything else a SwitchyardError
 * with the provider's code. Switchyard errors pass through unchanged.
 */
export function storeError(error: unknown, operation: string): Error {
  if (error instanceof SwitchyardError) return error;
  const code =
    typeof (error as { code?: unknown })?.code === 'string'
      ? (error as { code: string }).code
      : undefined;
  const reason = error instanceof Error ? error.message : String(error);
  const details = { provider: PROVIDER, providerCode: code };
  if (code !== undefined && TRANSIENT.test(code)) {
    return new TransportUnavailableError(`${operation} failed: ${reason}`, {
      cause: error,
      details,
    });
  }
  return new SwitchyardError(`${operation} failed: ${reason}`, {
    cause: error,
    details,
  });
}

/**
 * Runs a read of the database, turning what SQLite throws into a
 * Switchyard error as {@link storeError} does.
 */
export function read<T>(operation: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw storeError(error, operation);
  }
}

/** The smallest string greater than every string that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** A random positive integer that tells one delivery from another. */
export function randomToken(): number {
  return Math.floor(Math.random() * 2 ** 48) + 1;
}
