import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConflictError } from '../../src/core/errors.ts';
import type { IdempotencyStore } from '../../src/core/provider.ts';
import type { NatsContext } from '../../src/providers/nats/connection.ts';
import { NatsIdempotency } from '../../src/providers/nats/idempotency.ts';
import { eventually, expectError } from '../../src/testkit/helpers.ts';
import { bucketName, closeNatsContext, openContext } from './fixtures.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

const LEASE = { leaseMs: 30_000, ttlMs: 60_000 };

let server: NatsTestServer;
let contexts: NatsContext[];

beforeAll(async () => {
  server = await startNatsServer();
  contexts = await Promise.all([openContext(server), openContext(server)]);
});

afterAll(async () => {
  await Promise.all(contexts.map(closeNatsContext));
  await server.stop();
});

async function freshTable(): Promise<IdempotencyStore> {
  return new NatsIdempotency(contexts[0]!).open(bucketName('idem'));
}

describe('nats idempotency records', () => {
  test('of ten callers racing on two connections exactly one acquires', async () => {
    const table = bucketName('race');
    const stores = await Promise.all(
      contexts.map((context) => new NatsIdempotency(context).open(table)),
    );

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stores[i % 2]!.begin('crew#m1', { owner: `worker-${i}`, ...LEASE }),
      ),
    );

    const acquired = outcomes.filter((o) => o.status === 'acquired');
    expect(acquired).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'in-progress')).toHaveLength(9);
  });

  test('a record is kept in the Powertools layout under its owner', async () => {
    const store = await freshTable();

    await store.begin('crew#m1', { owner: 'a', ...LEASE });
    const record = await store.get('crew#m1');

    expect(record).toMatchObject({ id: 'crew#m1', status: 'INPROGRESS' });
    expect(record?.owner).toBe('a');
    expect(record?.inProgressExpiration).toBeGreaterThan(Date.now());
    expect(record?.expiration).toBeGreaterThan(Date.now() / 1000);
  });

  test('a completed record reports its data to the next begin', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await store.complete('crew#m1', { owner: 'a', data: '42', ttlMs: 60_000 });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome).toEqual({ status: 'completed', data: '42' });
  });

  test('complete and extend by another owner are conflicts', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    const completing = await expectError(
      () => store.complete('crew#m1', { owner: 'b', ttlMs: 60_000 }),
      ConflictError,
    );
    await expectError(
      () => store.extend('crew#m1', { owner: 'b', leaseMs: 1000 }),
      ConflictError,
    );

    expect(completing.actual).toBe('a');
  });

  test('a lapsed lease is taken over by exactly one of racing callers', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1, ttlMs: 60_000 });
    await eventually(async () => {
      const record = await store.get('crew#m1');
      expect(record?.inProgressExpiration).toBeLessThan(Date.now());
    });

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.begin('crew#m1', { owner: `b${i}`, ...LEASE }),
      ),
    );

    expect(outcomes.filter((o) => o.status === 'acquired')).toHaveLength(1);
  });

  test('an extended lease stays held', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1000, ttlMs: 60_000 });

    await store.extend('crew#m1', { owner: 'a', leaseMs: 60_000 });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome.status).toBe('in-progress');
  });

  test('a released record can be acquired again', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await store.release('crew#m1', { owner: 'a' });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome.status).toBe('acquired');
    expect((await store.get('crew#m1'))?.owner).toBe('b');
  });

  test('release by another owner leaves the record held', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await store.release('crew#m1', { owner: 'b' });

    expect((await store.get('crew#m1'))?.owner).toBe('a');
  });

  test('an expired completed record counts as absent', async () => {
    const store = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });
    await store.complete('crew#m1', { owner: 'a', ttlMs: 1 });
    await eventually(async () => {
      expect(await store.get('crew#m1')).toBeUndefined();
    });

    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome.status).toBe('acquired');
  });
});
