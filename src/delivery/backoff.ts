/**
 * Exponential backoff with full jitter: the delay before attempt `n + 1` is
 * drawn uniformly between 0 and `min(maxDelayMs, initialDelayMs *
 * multiplier^(n - 1))`, which spreads retries of many consumers that failed
 * together instead of having them retry in step.
 */
import type { BackoffOptions } from '../core/channel.ts';
import { ConfigurationError } from '../core/errors.ts';
import { definedFields } from '../core/options.ts';

/** Backoff options with every default applied. */
export type Backoff = Required<BackoffOptions>;

/** The defaults documented on {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Readonly<Backoff> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 'full',
});

/**
 * Applies the defaults and validates: delays are non-negative finite
 * numbers with `initialDelayMs <= maxDelayMs`, the multiplier is at least 1
 * and jitter is `full` or `none`. A bad value is a `ConfigurationError`
 * naming `field` and the value.
 *
 * @example
 * resolveBackoff({ initialDelayMs: 50 }).maxDelayMs; // 30000
 */
export function resolveBackoff(
  options: BackoffOptions = {},
  field = 'backoff',
): Backoff {
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...definedFields(options) };

  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    const value = backoff[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigurationError(
        `${field}.${key} must be a number of milliseconds >= 0, got ${String(value)}`,
        { field: `${field}.${key}`, value },
      );
    }
  }
  if (backoff.initialDelayMs > backoff.maxDelayMs) {
    throw new ConfigurationError(
      `${field}.initialDelayMs (${backoff.initialDelayMs}) must not exceed ${field}.maxDelayMs (${backoff.maxDelayMs})`,
      { field: `${field}.initialDelayMs`, value: backoff.initialDelayMs },
    );
  }
  if (!Number.isFinite(backoff.multiplier) || backoff.multiplier < 1) {
    throw new ConfigurationError(
      `${field}.multiplier must be a number >= 1, got ${String(backoff.multiplier)}`,
      { field: `${field}.multiplier`, value: backoff.multiplier },
    );
  }
  if (backoff.jitter !== 'full' && backoff.jitter !== 'none') {
    throw new ConfigurationError(
      `${field}.jitter must be 'full' or 'none', got ${JSON.stringify(backoff.jitter)}`,
      { field: `${field}.jitter`, value: backoff.jitter },
    );
  }

  return backoff;
}

/**
 * The delay in whole milliseconds after attempt `attempt` (from 1) failed.
 * With `jitter: 'none'` it is the capped exponential delay itself; with
 * `full`, `random()` (default `Math.random`) scales it.
 *
 * @example
 * backoffDelay(3, { ...DEFAULT_BACKOFF, jitter: 'none' }); // 400
 */
export function backoffDelay(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(
    backoff.maxDelayMs,
    backoff.initialDelayMs * backoff.multiplier ** exponent,
  );
  const delay = backoff.jitter === 'full' ? random() * ceiling : ceiling;

  return Math.floor(Math.min(delay, backoff.maxDelayMs));
}
