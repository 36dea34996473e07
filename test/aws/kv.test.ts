import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CapabilityError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { KvStore, RawKvEvent } from '../../src/core/provider.ts';
import { AwsContext } from '../../src/providers/aws/context.ts';
import { AwsKv } from '../../src/providers/aws/kv.ts';
import {
  MAX_VALUE_BYTES,
  valueLimit,
} from '../../src/providers/aws/kv-items.ts';
import { kvWatchUnsupported } from '../../src/providers/aws/kv-watch.ts';
import { resolveAwsOptions } from '../../src/providers/aws/options.ts';
import {
  collect,
  eventually,
  expectError,
  times,
  uniqueName,
  within,
} from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

const PREFIX = 'sy-';

let moto: MotoServer;
let context: AwsContext;
let kv: AwsKv;

beforeAll(async () => {
  moto = await startMotoServer();
  context = new AwsContext(
    resolveAwsOptions({ endpoint: moto.endpoint, prefix: PREFIX }),
    silentLogger,
  );
  kv = new AwsKv(context);
});

afterAll(async () => {
  await context?.close();
  await moto?.stop();
});

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

function freshBucket(ttlMs?: number): Promise<KvStore> {
  return kv.open(uniqueName('kv'), {
    create: true,
    ...(ttlMs !== undefined && { ttlMs }),
  });
}

/** Opens a watch and returns a function that awaits its next event. */
function watchEvents(store: KvStore, prefix = '') {
  const controller = new AbortController();
  const events = store
    .watch({ prefix, signal: controller.signal })
    [Symbol.asyncIterator]();
  const next = async (): Promise<RawKvEvent> => {
    const result = await within(events.next(), 20_000, 'a watch event');
    if (result.done) throw new Error('the watch ended');
    return result.value;
  };
  return { next, events, stop: () => controller.abort() };
}

describe('aws key-value buckets', () => {
  test('a bucket is a table with a stream of new and old images and TTL on expiresAt', async () => {
    const bucket = uniqueName('kv');

    await kv.open(bucket, { create: true });
    const { Table } = await context.dynamodb.send(
      new DescribeTableCommand({ TableName: `${PREFIX}${bucket}` }),
    );
    const ttl = await context.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: `${PREFIX}${bucket}` }),
    );

    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'key', KeyType: 'HASH' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.StreamSpecification?.StreamViewType).toBe(
      'NEW_AND_OLD_IMAGES',
    );
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  test('an entry is an item of value, decimal revision and update time', async () => {
    const bucket = uniqueName('kv');
    const store = await kv.open(bucket, { create: true });

    const revision = await store.put('worker.1', bytes('one'));
    const { Item } = await context.dynamodb.send(
      new GetItemCommand({
        TableName: `${PREFIX}${bucket}`,
        Key: { key: { S: 'worker.1' } },
      }),
    );

    expect(text(Item?.value?.B)).toBe('one');
    expect(Item?.revision?.N).toBe(revision);
    expect(Number(Item?.updatedAt?.N)).toBeGreaterThan(0);
    expect(Item?.expiresAt).toBeUndefined();
  });

  test('opening an absent bucket without create is a not-found error', async () => {
    const error = await expectError(
      () => kv.open(uniqueName('absent'), { create: false }),
      NotFoundError,
    );

    expect(error.kind).toBe('kv-bucket');
  });

  test('buckets are listed under the prefix and deleted with their entries', async () => {
    const bucket = uniqueName('kv');
    const store = await kv.open(bucket, { create: true });
    await store.put('a', bytes('1'));

    const listed = await kv.list();
    await kv.delete(bucket);
    const reopened = await kv.open(bucket, { create: true });

    expect(listed).toContain(bucket);
    expect(await kv.list()).toContain(bucket);
    expect(await reopened.get('a')).toBeUndefined();
  });

  test('of 10 concurrent updates on one revision exactly one wins', async () => {
    const store = await freshBucket();
    const revision = await store.put('worker.1', bytes('0'));

    const outcomes = await Promise.allSettled(
      times(10, (i) => store.update('worker.1', bytes(`${i + 1}`), revision)),
    );
    const won = outcomes.flatMap((o, i) =>
      o.status === 'fulfilled' ? [i + 1] : [],
    );
    const lost = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [o.reason] : [],
    );

    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    expect(lost.every((reason) => reason instanceof ConflictError)).toBe(true);
    expect(text((await store.get('worker.1'))?.value)).toBe(`${won[0]}`);
  });

  test('a stale update names the expected and the actual revision', async () => {
    const store = await freshBucket();
    const stale = await store.put('worker.1', bytes('1'));
    const current = await store.update('worker.1', bytes('2'), stale);

    const error = await expectError(
      () => store.update('worker.1', bytes('3'), stale),
      ConflictError,
    );

    expect(error.expected).toBe(stale);
    expect(error.actual).toBe(current);
    expect(Number(current)).toBeGreaterThan(Number(stale));
  });

  test('of 10 racing creates of one key exactly one wins', async () => {
    const store = await freshBucket();

    const outcomes = await Promise.allSettled(
      times(10, (i) => store.create('worker.1', bytes(`${i}`))),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [o.reason] : [],
    );

    expect(won).toHaveLength(1);
    expect(lost.every((reason) => reason instanceof ConflictError)).toBe(true);
  });

  test('update and delete on a revision of an absent key are conflicts', async () => {
    const store = await freshBucket();
    const revision = await store.put('worker.1', bytes('1'));

    await expectError(
      () => store.update('worker.2', bytes('2'), revision),
      ConflictError,
    );
    await expectError(
      () => store.delete('worker.2', { revision }),
      ConflictError,
    );
    await expectError(
      () => store.update('worker.1', bytes('2'), 'not-a-revision'),
      ConflictError,
    );
  });

  test('delete on the current revision removes the key; a stale one keeps it', async () => {
    const store = await freshBucket();
    const stale = await store.put('worker.1', bytes('1'));
    const current = await store.put('worker.1', bytes('2'));

    const error = await expectError(
      () => store.delete('worker.1', { revision: stale }),
      ConflictError,
    );
    const kept = await store.get('worker.1');
    await store.delete('worker.1', { revision: current });
    await store.delete('worker.404');

    expect(error.actual).toBe(current);
    expect(text(kept?.value)).toBe('2');
    expect(await store.get('worker.1')).toBeUndefined();
  });

  test('an entry past its TTL reads as absent and can be created again', async () => {
    const store = await freshBucket(1_000);
    await store.put('lease.1', bytes('held'));
    const fresh = await store.get('lease.1');

    await eventually(async () => {
      expect(await store.get('lease.1')).toBeUndefined();
    });
    const keys = await collect(store.keys('lease.'));
    const revision = await store.create('lease.1', bytes('again'));

    expect(text(fresh?.value)).toBe('held');
    expect(keys).toEqual([]);
    expect((await store.get('lease.1'))?.revision).toBe(revision);
  });

  test('a bucket keeps the TTL it was created with when opened again', async () => {
    const bucket = uniqueName('kv');
    await kv.open(bucket, { create: true, ttlMs: 60_000 });
    const store = await kv.open(bucket, { create: false });

    await store.put('lease.1', bytes('held'));
    const { Item } = await context.dynamodb.send(
      new GetItemCommand({
        TableName: `${PREFIX}${bucket}`,
        Key: { key: { S: 'lease.1' } },
      }),
    );

    expect(Number(Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
  });

  test('keys and entries by prefix span scan pages and come sorted', async () => {
    const store = await freshBucket();
    // Five items of 240 KB each exceed the 1 MB of one scan page.
    const big = new Uint8Array(240 * 1024).fill(7);
    for (const i of [4, 2, 5, 1, 3]) await store.put(`big.${i}`, big);
    await store.put('small', bytes('s'));

    const keys = await collect(store.keys('big.'));
    const entries = await collect(store.entries('big.'));
    const all = await collect(store.keys(''));

    expect(keys).toEqual(['big.1', 'big.2', 'big.3', 'big.4', 'big.5']);
    expect(entries.map((e) => e.key)).toEqual(keys);
    expect(entries.every((e) => e.value.byteLength === big.byteLength)).toBe(
      true,
    );
    expect(all).toEqual([...keys, 'small']);
  });

  test('a value up to the item limit is stored, one byte more is refused naming both sizes', async () => {
    const store = await freshBucket();
    const limit = valueLimit('worker.1');

    await store.put('worker.1', new Uint8Array(limit));
    const error = await expectError(
      () => store.put('worker.1', new Uint8Array(limit + 1)),
      PayloadTooLargeError,
    );

    expect((await store.get('worker.1'))?.value.byteLength).toBe(limit);
    expect(error.size).toBe(limit + 1);
    expect(error.limit).toBe(limit);
    expect(error.message).toContain(`${limit + 1} bytes`);
    expect(error.message).toContain(`${limit} bytes`);
    expect(limit).toBeGreaterThan(MAX_VALUE_BYTES);
  });

  test('the endpoint serves the streams a watch reads', async () => {
    expect(await kvWatchUnsupported(context)).toBeUndefined();
  });

  test('watch gives the snapshot, then puts and deletes in write order', async () => {
    const store = await freshBucket();
    await store.put('worker.1', bytes('1'));
    await store.put('worker.2', bytes('2'));
    await store.put('router.1', bytes('r'));

    const watch = watchEvents(store, 'worker.');
    const snapshot = await watch.next();
    await store.put('worker.3', bytes('3'));
    await store.put('router.2', bytes('r'));
    await store.put('worker.1', bytes('99'));
    await store.delete('worker.2');
    const changes = [
      await watch.next(),
      await watch.next(),
      await watch.next(),
    ];
    watch.stop();
    const end = await within(watch.events.next(), 20_000, 'the watch end');

    expect(snapshot).toMatchObject({ type: 'snapshot' });
    expect(
      snapshot.type === 'snapshot' && snapshot.entries.map((e) => e.key),
    ).toEqual(['worker.1', 'worker.2']);
    expect(
      changes.map((e) => (e.type === 'put' ? e.entry.key : e.type)),
    ).toEqual(['worker.3', 'worker.1', 'delete']);
    expect(changes[1]?.type === 'put' && text(changes[1].entry.value)).toBe(
      '99',
    );
    expect(changes[2]).toEqual({ type: 'delete', key: 'worker.2' });
    expect(end.done).toBe(true);
  });

  test('a watch opened while writes go on misses none and repeats none', async () => {
    const store = await freshBucket();
    const keys = ['hits.a', 'hits.b', 'hits.c'];
    for (const key of keys) await store.put(key, bytes('0'));
    const writes = (async () => {
      for (let i = 1; i <= 8; i += 1) {
        for (const key of keys) await store.put(key, bytes(`${i}`));
      }
    })();

    const watch = watchEvents(store, 'hits.');
    const view = new Map<string, { value: string; revision: number }>();
    const first = await watch.next();
    for (const entry of first.type === 'snapshot' ? first.entries : []) {
      view.set(entry.key, {
        value: text(entry.value) ?? '',
        revision: Number(entry.revision),
      });
    }
    await writes;
    const repeats: string[] = [];
    while (keys.some((key) => view.get(key)?.value !== '8')) {
      const event = await watch.next();
      if (event.type !== 'put') continue;
      const revision = Number(event.entry.revision);
      const before = view.get(event.entry.key)?.revision ?? 0;
      if (revision <= before) repeats.push(event.entry.key);
      view.set(event.entry.key, {
        value: text(event.entry.value) ?? '',
        revision,
      });
    }
    watch.stop();

    expect(first.type).toBe('snapshot');
    expect(repeats).toEqual([]);
    for (const key of keys) {
      expect(view.get(key)?.revision).toBe(
        Number((await store.get(key))?.revision),
      );
    }
  });

  test('watching a table made without a stream is a capability error', async () => {
    const bucket = uniqueName('kv');
    await context.dynamodb.send(
      new CreateTableCommand({
        TableName: `${PREFIX}${bucket}`,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      }),
    );
    const store = await kv.open(bucket, { create: false });

    const error = await expectError(
      () => collect(store.watch({ prefix: '' })),
      CapabilityError,
    );

    expect(error.feature).toBe('watch');
    expect(error.message).toContain(`${PREFIX}${bucket}`);
  });

  test('a table of another layout is refused as a bucket', async () => {
    const bucket = uniqueName('kv');
    await context.dynamodb.send(
      new CreateTableCommand({
        TableName: `${PREFIX}${bucket}`,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );

    const error = await expectError(
      () => kv.open(bucket, { create: true }),
      ConfigurationError,
    );

    expect(error.value).toBe(bucket);
    expect(error.message).toContain('partition key');
    expect(await kv.list()).not.toContain(bucket);
  });

  test('a watch stops when the provider closes', async () => {
    const own = new AwsContext(
      resolveAwsOptions({ endpoint: moto.endpoint, prefix: PREFIX }),
      silentLogger,
    );
    const store = await new AwsKv(own).open(uniqueName('kv'), {
      create: true,
    });
    const events = store.watch({ prefix: '' })[Symbol.asyncIterator]();
    const snapshot = await within(events.next(), 20_000, 'the snapshot');

    const pending = events.next();
    await own.close();
    const end = await within(pending, 20_000, 'the watch end');

    expect(snapshot.value).toEqual({ type: 'snapshot', entries: [] });
    expect(end.done).toBe(true);
  });
});
