/**
 * Small checks of option values shared by the handles, so that every bad
 * option is refused the same way: a `ConfigurationError` that names the
 * field, the allowed range and the value received.
 */
import { ConfigurationError } from './errors.ts';

/**
 * `value`, or `fallback` when undefined; a `ConfigurationError` unless the
 * result is an integer of at least `min`.
 *
 * @example
 * integerOption(options.concurrency, 1, 'subscribe.concurrency'); // >= 1
 */
export function integerOption(
  value: number | undefined,
  fallback: number,
  field: string,
  min = 1,
): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new ConfigurationError(
      `${field} must be an integer >= ${min}, got ${String(result)}`,
      { field, value: result },
    );
  }
  return result;
}

/**
 * `value`, or `fallback` when undefined; a `ConfigurationError` unless the
 * result is a finite number of milliseconds of at least `min`.
 */
export function durationOption(
  value: number | undefined,
  fallback: number,
  field: string,
  min = 0,
): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min) {
    throw new ConfigurationError(
      `${field} must be a number of milliseconds >= ${min}, got ${String(result)}`,
      { field, value: result },
    );
  }
  return result;
}

/** `options` without its undefined fields, so they do not hide defaults. */
export function definedFields<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * JSON with the keys of every object sorted, so that equal options give
 * equal text whatever order they were written in.
 */
export function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
              a < b ? -1 : a > b ? 1 : 0,
            ),
          )
        : v,
    ) ?? 'undefined'
  );
}
