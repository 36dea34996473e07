import { describe, expect, it } from 'vitest';
import { lazy } from '../../../src/core/lazy.ts';

describe('lazy', () => {
  it('makes the value once for callers that arrive together', async () => {
    let made = 0;
    const value = lazy(async () => ++made);

    const results = await Promise.all([value(), value(), value()]);

    expect(results).toEqual([1, 1, 1]);
    expect(made).toBe(1);
  });

  it('tries again after a failed attempt', async () => {
    let attempts = 0;
    const value = lazy(async () => {
      attempts++;
      if (attempts === 1) throw new Error('transport down');
      return 'open';
    });

    const first = await value().catch((e: Error) => e.message);
    const second = await value();

    expect(first).toBe('transport down');
    expect(second).toBe('open');
    expect(attempts).toBe(2);
  });
});
