import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../../src/core/errors.ts';
import type { IdempotencyStore } from '../../../../src/core/provider.ts';
import { eventually, namespaceFixture } from './fixtures.ts';

const fixture = namespaceFixture();
let table: IdempotencyStore;
const lease = { leaseMs: 60_000, ttlMs: 3_600_000 };

beforeEach(async () => {
  const provider = await fixture.provider();
  table = await provider.idempotency!.open('records');
});
afterEach(() => fixture.cleanup());

describe('memory idempotency tables', () => {
  it('lets exactly one of two racing callers acquire a record', async () => {
    const outcomes = await Promise.all([
      table.begin('g#m1', { owner: 'a', ...lease }),
      table.begin('g#m1', { owner: 'b', ...lease }),
    ]);

    const statuses = outcomes.map((o) => o.status).sort();
    expect(statuses).toEqual(['acquired', 'in-progress']);
  });

  it('reports the stored result once the owner completed the record', async () => {
    await table.begin('g#m1', { owner: 'a', ...lease });
    await table.complete('g#m1', {
      owner: 'a',
      data: '{"ok":1}',
      ttlMs: 60_000,
    });

    const outcome = await table.begin('g#m1', { owner: 'b', ...lease });

    expect(outcome).toEqual({ status: 'completed', data: '{"ok":1}' });
    expect(await table.get('g#m1')).toMatchObject({
      id: 'g#m1',
      status: 'COMPLETED',
      data: '{"ok":1}',
    });
  });

  it('refuses completion by anyone but the owner', async () => {
    await table.begin('g#m1', { owner: 'a', ...lease });

    const attempt = table.complete('g#m1', { owner: 'b', ttlMs: 60_000 });

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
  });

  it('lets another caller acquire once the lease has lapsed', async () => {
    await table.begin('g#m1', { owner: 'a', leaseMs: 50, ttlMs: 60_000 });

    const outcome = await eventually(async () => {
      const next = await table.begin('g#m1', { owner: 'b', ...lease });
      return next.status === 'acquired' ? next : undefined;
    });

    expect(outcome.status).toBe('acquired');
    await expect(
      table.extend('g#m1', { owner: 'a', leaseMs: 1000 }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('frees a released record for the next caller', async () => {
    await table.begin('g#m1', { owner: 'a', ...lease });

    await table.release('g#m1', { owner: 'a' });

    expect(await table.get('g#m1')).toBeUndefined();
    expect(await table.begin('g#m1', { owner: 'b', ...lease })).toEqual({
      status: 'acquired',
    });
  });
});
