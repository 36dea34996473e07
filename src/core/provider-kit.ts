/**
 * Building blocks for provider implementations: errors that carry the
 * provider's name, and the lifecycle of one provider instance. Providers
 * depend on the core, never on each other, so what several of them need
 * lives here.
 */
import {
  ClosedError,
  ConflictError,
  type ErrorDetails,
  NotFoundError,
  type ResourceKind,
} from './errors.ts';

/** Something a provider instance opened and closes with itself. */
export interface Closable {
  close(): Promise<void>;
}

/** Error constructors that set `details.provider`. */
export interface ProviderErrors {
  notFound(
    kind: ResourceKind,
    resource: string,
    details?: ErrorDetails,
  ): NotFoundError;
  conflict(
    message: string,
    expected: string | undefined,
    actual: string | undefined,
    details?: ErrorDetails,
  ): ConflictError;
  /** The error of `operation` attempted after `what` was closed. */
  closed(operation: string, what?: string): ClosedError;
}

/**
 * The error constructors of provider `provider`.
 *
 * @example
 * const { notFound } = providerErrors('local');
 * throw notFound('channel', 'orders', { channel: 'orders' });
 */
export function providerErrors(provider: string): ProviderErrors {
  return {
    notFound(kind, resource, details = {}) {
      return new NotFoundError(kind, resource, {
        details: { provider, ...details },
      });
    },
    conflict(message, expected, actual, details = {}) {
      return new ConflictError(message, {
        expected,
        actual,
        details: { provider, ...details },
      });
    },
    closed(operation, what = `the ${provider} provider`) {
      return new ClosedError(`cannot ${operation}: ${what} is closed`, {
        details: { provider },
      });
    },
  };
}

/**
 * The open or closed state of one provider instance, with the resources
 * (consumers, watches, servers) it opened, so that closing the instance
 * closes them while state shared with other instances stays.
 */
export class Lifecycle {
  #closed = false;
  readonly #open = new Set<Closable>();
  readonly #errors: ProviderErrors;

  /** A lifecycle of an instance of provider `provider`. */
  constructor(provider: string) {
    this.#errors = providerErrors(provider);
  }

  /** Whether the instance was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws a ClosedError once the instance is closed. */
  check(operation: string): void {
    if (this.#closed) throw this.#errors.closed(operation);
  }

  /** Closes `resource` with the instance, unless it is closed before. */
  track(resource: Closable): void {
    this.#open.add(resource);
  }

  /** Forgets a resource that closed by itself. */
  untrack(resource: Closable): void {
    this.#open.delete(resource);
  }

  /** Marks the instance closed and closes every resource still open. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#open];
    this.#open.clear();
    await Promise.allSettled(open.map((resource) => resource.close()));
  }
}
