import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConflictError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { IdempotencyStore } from '../../src/core/provider.ts';
import { AwsContext } from '../../src/providers/aws/context.ts';
import { AwsIdempotency } from '../../src/providers/aws/idempotency.ts';
import { resolveAwsOptions } from '../../src/providers/aws/options.ts';
import {
  eventually,
  expectError,
  times,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

const PREFIX = 'sy-';
const LEASE = { leaseMs: 30_000, ttlMs: 60_000 };

let moto: MotoServer;
let contexts: AwsContext[];

beforeAll(async () => {
  moto = await startMotoServer();
  contexts = times(
    2,
    () =>
      new AwsContext(
        resolveAwsOptions({ endpoint: moto.endpoint, prefix: PREFIX }),
        silentLogger,
      ),
  );
});

afterAll(async () => {
  await Promise.all((contexts ?? []).map((context) => context.close()));
  await moto?.stop();
});

async function freshTable(): Promise<{
  name: string;
  store: IdempotencyStore;
}> {
  const name = uniqueName('idem');
  return { name, store: await new AwsIdempotency(contexts[0]!).open(name) };
}

/** The item of record `id` as DynamoDB holds it. */
async function rawItem(table: string, id: string) {
  const { Item } = await contexts[0]!.dynamodb.send(
    new GetItemCommand({
      TableName: `${PREFIX}${table}`,
      Key: { id: { S: id } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('aws idempotency records', () => {
  test('a table is keyed by id with TTL on expiration', async () => {
    const { name } = await freshTable();

    const { Table } = await contexts[0]!.dynamodb.send(
      new DescribeTableCommand({ TableName: `${PREFIX}${name}` }),
    );
    const ttl = await contexts[0]!.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: `${PREFIX}${name}` }),
    );

    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'id', KeyType: 'HASH' },
    ]);
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiration');
  });

  test('records are kept in the Powertools layout, the owner apart', async () => {
    const { name, store } = await freshTable();
    const before = Date.now();

    await store.begin('crew#m1', { owner: 'a', ...LEASE });
    const held = await rawItem(name, 'crew#m1');
    await store.complete('crew#m1', {
      owner: 'a',
      data: '{"total":42}',
      ttlMs: 60_000,
    });
    const completed = await rawItem(name, 'crew#m1');

    expect(held?.status).toEqual({ S: 'INPROGRESS' });
    expect(held?.owner).toEqual({ S: 'a' });
    expect(Number(held?.in_progress_expiration?.N)).toBeGreaterThan(before);
    expect(Number(held?.expiration?.N)).toBeGreaterThan(before / 1000);
    expect(Number(held?.expiration?.N)).toBeLessThan(before / 1000 + 3600);
    expect(completed?.status).toEqual({ S: 'COMPLETED' });
    expect(completed?.data).toEqual({ S: '{"total":42}' });
    expect(completed?.in_progress_expiration).toBeUndefined();
    expect(Object.keys(completed ?? {}).sort()).toEqual([
      'data',
      'expiration',
      'id',
      'status',
    ]);
  });

  test('a record Powertools wrote is read as completed', async () => {
    const { name, store } = await freshTable();
    const expiration = Math.floor(Date.now() / 1000) + 3600;
    await contexts[0]!.dynamodb.send(
      new PutItemCommand({
        TableName: `${PREFIX}${name}`,
        Item: {
          id: { S: 'crew#m1' },
          status: { S: 'COMPLETED' },
          expiration: { N: String(expiration) },
          data: { S: '"done"' },
        },
      }),
    );

    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome).toEqual({ status: 'completed', data: '"done"' });
  });

  test('of two owners racing begin one acquires and the other sees in-progress', async () => {
    const table = uniqueName('race');
    const stores = await Promise.all(
      contexts.map((context) => new AwsIdempotency(context).open(table)),
    );

    const outcomes = await Promise.all(
      times(10, (i) =>
        stores[i % 2]!.begin('crew#m1', { owner: `worker-${i}`, ...LEASE }),
      ),
    );
    const acquired = outcomes.filter((o) => o.status === 'acquired');
    const waiting = outcomes.flatMap((o) =>
      o.status === 'in-progress' ? [o.until] : [],
    );

    expect(acquired).toHaveLength(1);
    expect(waiting).toHaveLength(9);
    expect(waiting.every((until) => until > Date.now())).toBe(true);
  });

  test('a completed record reports its data to the next begin', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await store.complete('crew#m1', { owner: 'a', data: '42', ttlMs: 60_000 });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome).toEqual({ status: 'completed', data: '42' });
  });

  test('an expired in-progress lease is taken over by exactly one of racing callers', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1, ttlMs: 60_000 });
    await eventually(async () => {
      const record = await store.get('crew#m1');
      expect(record?.inProgressExpiration).toBeLessThan(Date.now());
    });

    const outcomes = await Promise.all(
      times(6, (i) => store.begin('crew#m1', { owner: `b${i}`, ...LEASE })),
    );
    const record = await store.get('crew#m1');

    expect(outcomes.filter((o) => o.status === 'acquired')).toHaveLength(1);
    expect(record?.owner).toMatch(/^b\d$/);
  });

  test('complete by a stale owner is refused once the lease was taken over', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1, ttlMs: 60_000 });
    await eventually(async () => {
      const record = await store.get('crew#m1');
      expect(record?.inProgressExpiration).toBeLessThan(Date.now());
    });
    await store.begin('crew#m1', { owner: 'b', ...LEASE });

    const error = await expectError(
      () => store.complete('crew#m1', { owner: 'a', data: '1', ttlMs: 60_000 }),
      ConflictError,
    );

    expect(error.expected).toBe('a');
    expect(error.actual).toBe('b');
    expect((await store.get('crew#m1'))?.status).toBe('INPROGRESS');
  });

  test('the owner of a lapsed lease not yet taken over may still complete', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1, ttlMs: 60_000 });
    await eventually(async () => {
      const record = await store.get('crew#m1');
      expect(record?.inProgressExpiration).toBeLessThan(Date.now());
    });

    await store.complete('crew#m1', { owner: 'a', ttlMs: 60_000 });

    expect((await store.get('crew#m1'))?.status).toBe('COMPLETED');
  });

  test('complete and extend by another owner are conflicts', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await expectError(
      () => store.complete('crew#m1', { owner: 'b', ttlMs: 60_000 }),
      ConflictError,
    );
    const extending = await expectError(
      () => store.extend('crew#m1', { owner: 'b', leaseMs: 1000 }),
      ConflictError,
    );
    const absent = await expectError(
      () => store.extend('crew#m404', { owner: 'a', leaseMs: 1000 }),
      ConflictError,
    );

    expect(extending.actual).toBe('a');
    expect(absent.message).toContain('no record');
  });

  test('an extended lease stays held', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', leaseMs: 1000, ttlMs: 60_000 });

    await store.extend('crew#m1', { owner: 'a', leaseMs: 60_000 });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome.status).toBe('in-progress');
    expect(outcome.status === 'in-progress' && outcome.until).toBeGreaterThan(
      Date.now() + 30_000,
    );
  });

  test('a released record can be acquired again; release by another owner keeps it', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });

    await store.release('crew#m1', { owner: 'b' });
    const kept = await store.get('crew#m1');
    await store.release('crew#m1', { owner: 'a' });
    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(kept?.owner).toBe('a');
    expect(outcome.status).toBe('acquired');
    expect((await store.get('crew#m1'))?.owner).toBe('b');
  });

  test('an expired completed record counts as absent', async () => {
    const { store } = await freshTable();
    await store.begin('crew#m1', { owner: 'a', ...LEASE });
    await store.complete('crew#m1', { owner: 'a', ttlMs: 1 });
    await eventually(async () => {
      expect(await store.get('crew#m1')).toBeUndefined();
    });

    const outcome = await store.begin('crew#m1', { owner: 'b', ...LEASE });

    expect(outcome.status).toBe('acquired');
  });
});
