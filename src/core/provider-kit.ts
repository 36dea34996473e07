/**
 * Building blocks for provider implementations: errors that carry the
 * provider's name, and the lifecycle of one provider instance. Providers
 * depend on the core, never on each other, so what several of them need
 * lives here.
 */
import {
  ClosedError,
  ConfigurationError,
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

/** Checks of a provider's options that refuse a bad value alike everywhere. */
export interface OptionChecks {
  /** Throws for a field of `options` that is not in `known`. */
  rejectUnknown(
    options: Record<string, unknown>,
    known: Iterable<string>,
  ): void;
  /** Whether `value` is a safe integer of at least `min`. */
  isInteger(value: unknown, min: number): value is number;
  /**
   * A ConfigurationError that names `field`, the rule it breaks and the
   * value received.
   */
  invalid(field: string, value: unknown, rule: string): ConfigurationError;
}

/**
 * The option checks of `provider`, whose errors carry its name.
 *
 * @example
 * ```ts
 * const { rejectUnknown, isInteger, invalid } = optionChecks('nats');
 * if (!isInteger(timeoutMs, 100)) throw invalid('timeoutMs', timeoutMs, 'must be an integer of at least 100');
 * ```
 */
export function optionChecks(provider: string): OptionChecks {
  return {
    rejectUnknown(options, known) {
      const fields = new Set(known);
      for (const field of Object.keys(options)) {
        if (fields.has(field) || options[field] === undefined) continue;
        throw new ConfigurationError(
          `${field} is not an option of the ${provider} provider (known: ${[...fields].join(', ')})`,
          { field, value: options[field], details: { provider } },
        );
      }
    },
    isInteger(value: unknown, min: number): value is number {
      return (
        typeof value === 'number' && Number.isSafeInteger(value) && value >= min
      );
    },
    invalid(field, value, rule) {
      return new ConfigurationError(
        `${field} ${rule}, got ${JSON.stringify(value) ?? String(value)}`,
        { field, value, details: { provider } },
      );
    },
  };
}

/**
 * The ConflictError of an idempotency record that `owner` does not hold:
 * it names the record, the table and what holds it instead.
 */
export function recordNotHeld(
  provider: string,
  where: { table: string; id: string },
  owner: string,
  record: { status: string; owner?: string | null } | undefined,
  details: ErrorDetails = {},
): ConflictError {
  const { table, id } = where;
  const holder =
    record === undefined
      ? 'no record'
      : record.status === 'COMPLETED'
        ? 'a completed record'
        : `a lease of ${record.owner ?? 'nobody'}`;
  return new ConflictError(
    `idempotency record '${id}' in table '${table}' is not held by ${owner}: found ${holder}`,
    {
      expected: owner,
      actual: record?.owner ?? undefined,
      details: { provider, table, key: id, ...details },
    },
  );
}
