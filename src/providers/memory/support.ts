/**
 * Pieces every part of the memory provider uses: its error helpers and
 * the lifecycle that closes what one provider instance opened.
 */
import {
  ClosedError,
  ConflictError,
  type ErrorDetails,
  NotFoundError,
  type ResourceKind,
} from '../../core/errors.ts';

/** Name of the provider, as configuration spells it. */
export const PROVIDER = 'memory';

/** Something a provider instance opened and closes with itself. */
export interface Closable {
  close(): Promise<void>;
}

/** A NotFoundError raised by this provider. */
export function notFound(
  kind: ResourceKind,
  resource: string,
  details: ErrorDetails = {},
): NotFoundError {
  return new NotFoundError(kind, resource, {
    details: { provider: PROVIDER, ...details },
  });
}

/** A ConflictError raised by this provider. */
export function conflict(
  message: string,
  expected: string | undefined,
  actual: string | undefined,
  details: ErrorDetails = {},
): ConflictError {
  return new ConflictError(message, {
    expected,
    actual,
    details: { provider: PROVIDER, ...details },
  });
}

/**
 * The open or closed state of one provider instance, with the consumers,
 * watches and servers it opened, so that closing the instance closes
 * them while the shared state of the namespace stays.
 */
export class Lifecycle {
  #closed = false;
  readonly #open = new Set<Closable>();

  /** Whether the instance was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws a ClosedError once the instance is closed. */
  check(operation: string): void {
    if (this.#closed) {
      throw new ClosedError(
        `cannot ${operation}: the memory provider is closed`,
        { details: { provider: PROVIDER } },
      );
    }
  }

  /** Closes `resource` with the instance, unless it is closed before. */
  track(resource: Closable): void {
    this.#open.add(resource);
  }

  /** Forgets a resource that closed by itself. */
  untrack(resource: Closable): void {
    this.#open.delete(resource);
  }

  /** Closes every resource still open. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#open];
    this.#open.clear();
    await Promise.all(open.map((resource) => resource.close()));
  }
}
