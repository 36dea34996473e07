import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../src/core/errors.ts';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  resolveBackoff,
} from '../../../src/delivery/backoff.ts';

describe('resolveBackoff', () => {
  it('applies the documented defaults', () => {
    expect(resolveBackoff()).toEqual({
      initialDelayMs: 100,
      maxDelayMs: 30_000,
      multiplier: 2,
      jitter: 'full',
    });
  });

  it('keeps a default when an option is given as undefined', () => {
    expect(resolveBackoff({ maxDelayMs: undefined }).maxDelayMs).toBe(30_000);
  });

  it('refuses values out of range, naming the field', () => {
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow(
      /backoff\.initialDelayMs/,
    );
    expect(() => resolveBackoff({ multiplier: 0.5 })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      resolveBackoff({ initialDelayMs: 500, maxDelayMs: 100 }),
    ).toThrow(/must not exceed/);
  });
});

describe('backoffDelay', () => {
  const exact = { ...DEFAULT_BACKOFF, jitter: 'none' as const };

  it('grows exponentially from the initial delay', () => {
    const delays = [1, 2, 3, 4].map((attempt) => backoffDelay(attempt, exact));

    expect(delays).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the largest delay', () => {
    expect(backoffDelay(50, exact)).toBe(30_000);
    expect(backoffDelay(2000, exact)).toBe(30_000);
  });

  it('with full jitter stays between 0 and the computed delay', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const ceiling = backoffDelay(attempt, exact);

      const low = backoffDelay(attempt, DEFAULT_BACKOFF, () => 0);
      const high = backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999_999);
      const sampled = backoffDelay(attempt, DEFAULT_BACKOFF);

      expect(low).toBe(0);
      expect(high).toBeLessThanOrEqual(ceiling);
      expect(high).toBeGreaterThanOrEqual(ceiling - 1);
      expect(sampled).toBeGreaterThanOrEqual(0);
      expect(sampled).toBeLessThanOrEqual(ceiling);
    }
  });

  it('scales the delay by the random draw', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(200);
  });
});
