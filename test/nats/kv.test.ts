import { beforeAll, describe, expect, test } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../src/core/errors.ts';
import type { KvStore, RawKvEvent } from '../../src/core/provider.ts';
import { NatsIdempotency } from '../../src/providers/nats/idempotency.ts';
import { NatsKv } from '../../src/providers/nats/kv.ts';
import { eventually, expectError } from '../../src/testkit/helpers.ts';
import {
  bucketName,
  bytes,
  closeNatsContext,
  openContext,
  serverForFile,
  text,
} from './fixtures.ts';

const shared = serverForFile();
let kv: NatsKv;

beforeAll(() => {
  kv = new NatsKv(shared.ctx);
});

async function freshBucket(): Promise<KvStore> {
  return kv.open(bucketName('kv'), { create: true });
}

/** Reads events of `events` until `count` arrived. */
async function take(
  events: AsyncIterator<RawKvEvent>,
  count: number,
): Promise<RawKvEvent[]> {
  const taken: RawKvEvent[] = [];
  while (taken.length < count) {
    const next = await events.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

describe('nats key-value buckets', () => {
  test('opening an absent bucket without create is a not-found error', async () => {
    const error = await expectError(
      () => kv.open(bucketName('absent'), { create: false }),
      NotFoundError,
    );

    expect(error.kind).toBe('kv-bucket');
    expect(error.details.provider).toBe('nats');
  });

  test('a bucket is a JetStream KV bucket with the ttl as its max age', async () => {
    const name = bucketName('ttl');

    await kv.open(name, { create: true, ttlMs: 60_000 });
    const info = await shared.ctx.jsm.streams.info(`KV_${name}`);

    expect(info.config.max_age).toBe(60_000 * 1_000_000);
    expect(await kv.list()).toContain(name);
  });

  test('the revision is the KV revision of the write', async () => {
    const store = await freshBucket();

    const first = await store.put('a', bytes('1'));
    const second = await store.put('a', bytes('2'));
    const entry = await store.get('a');

    expect(Number(second)).toBeGreaterThan(Number(first));
    expect(entry?.revision).toBe(second);
    expect(text(entry!.value)).toBe('2');
  });

  test('create of an existing key is a conflict with the revision found', async () => {
    const store = await freshBucket();
    const revision = await store.create('a', bytes('1'));

    const error = await expectError(
      () => store.create('a', bytes('2')),
      ConflictError,
    );

    expect(error.actual).toBe(revision);
    expect(error.details.providerCode).toBe('10071');
  });

  test('create after a delete succeeds', async () => {
    const store = await freshBucket();
    await store.create('a', bytes('1'));
    await store.delete('a');

    const revision = await store.create('a', bytes('2'));

    expect((await store.get('a'))?.revision).toBe(revision);
  });

  test('update on a stale revision is a conflict with expected and actual', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'));
    const second = await store.update('a', bytes('2'), first);

    const error = await expectError(
      () => store.update('a', bytes('3'), first),
      ConflictError,
    );

    expect(error.expected).toBe(first);
    expect(error.actual).toBe(second);
  });

  test('update of an absent key is a conflict', async () => {
    const store = await freshBucket();

    const error = await expectError(
      () => store.update('a', bytes('1'), '1'),
      ConflictError,
    );

    expect(error.actual).toBeUndefined();
  });

  test('of ten racing updates on one revision exactly one wins', async () => {
    const store = await freshBucket();
    const revision = await store.put('counter', bytes('0'));

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.update('counter', bytes(String(i)), revision),
      ),
    );

    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toHaveLength(1);
  });

  test('delete on a stale revision is a conflict and keeps the key', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'));
    await store.put('a', bytes('2'));

    await expectError(
      () => store.delete('a', { revision: first }),
      ConflictError,
    );

    expect(text((await store.get('a'))!.value)).toBe('2');
  });

  test('delete on the current revision removes the key', async () => {
    const store = await freshBucket();
    const revision = await store.put('a', bytes('1'));

    await store.delete('a', { revision });

    expect(await store.get('a')).toBeUndefined();
  });

  test('deleting an absent key without a revision succeeds', async () => {
    const store = await freshBucket();

    await store.delete('never');

    expect(await store.get('never')).toBeUndefined();
  });

  test('keys and entries list a prefix that ends mid-token in ascending order', async () => {
    const store = await freshBucket();
    for (const key of ['user.20', 'user.3', 'user.2', 'users', 'other.2']) {
      await store.put(key, bytes(key));
    }
    await store.delete('user.3');

    const keys: string[] = [];
    for await (const key of store.keys('user.2')) keys.push(key);
    const entries: string[] = [];
    for await (const entry of store.entries('user')) {
      entries.push(text(entry.value));
    }

    expect(keys).toEqual(['user.2', 'user.20']);
    expect(entries).toEqual(['user.2', 'user.20', 'users']);
  });

  test('a watch yields the snapshot, then puts and deletes in order', async () => {
    const store = await freshBucket();
    await store.put('job.1', bytes('a'));
    await store.put('job.2', bytes('b'));
    await store.put('other', bytes('c'));
    const stop = new AbortController();
    const events = store
      .watch({ prefix: 'job.', signal: stop.signal })
      [Symbol.asyncIterator]();

    const [snapshot] = await take(events, 1);
    await store.put('job.3', bytes('d'));
    await store.put('other', bytes('e'));
    await store.delete('job.1');
    const changes = await take(events, 2);
    stop.abort();

    expect(snapshot).toMatchObject({ type: 'snapshot' });
    const entries = snapshot?.type === 'snapshot' ? snapshot.entries : [];
    expect(entries.map((entry) => entry.key)).toEqual(['job.1', 'job.2']);
    expect(changes.map((event) => event.type)).toEqual(['put', 'delete']);
    expect(changes[1]).toMatchObject({ type: 'delete', key: 'job.1' });
    expect((await events.next()).done).toBe(true);
  });

  test('a watch of an empty bucket yields an empty snapshot at once', async () => {
    const store = await freshBucket();
    const events = store.watch({ prefix: '' })[Symbol.asyncIterator]();

    const [snapshot] = await take(events, 1);
    await store.put('a', bytes('1'));
    const [put] = await take(events, 1);
    await events.return?.();

    expect(snapshot).toEqual({ type: 'snapshot', entries: [] });
    expect(put).toMatchObject({ type: 'put', entry: { key: 'a' } });
  });

  test('entries of a bucket with a ttl expire and leave a watch an empty snapshot', async () => {
    const store = await kv.open(bucketName('short'), {
      create: true,
      ttlMs: 500,
    });
    await store.put('a', bytes('1'));
    await eventually(async () => {
      expect(await store.get('a')).toBeUndefined();
    });

    const events = store.watch({ prefix: '' })[Symbol.asyncIterator]();
    const [snapshot] = await take(events, 1);
    await events.return?.();

    expect(snapshot).toEqual({ type: 'snapshot', entries: [] });
  });

  test('a watch misses no write made while it starts', async () => {
    const store = await freshBucket();
    await store.put('seed', bytes('0'));
    const events = store.watch({ prefix: '' })[Symbol.asyncIterator]();
    const writes = (async () => {
      for (let i = 0; i < 50; i += 1) await store.put(`k${i}`, bytes('x'));
    })();

    const seen = new Set<string>();
    await writes;
    while (seen.size < 51) {
      const { value } = await events.next();
      if (value?.type === 'snapshot') {
        for (const entry of value.entries) seen.add(entry.key);
      } else if (value?.type === 'put') seen.add(value.entry.key);
    }
    await events.return?.();

    expect(seen.size).toBe(51);
  });

  test('a value over the server max_payload is refused naming both sizes', async () => {
    const store = await freshBucket();
    const limit = shared.ctx.nc.info!.max_payload;

    const error = await expectError(
      () => store.put('big', new Uint8Array(limit + 1)),
      PayloadTooLargeError,
    );

    expect(error.size).toBe(limit + 1);
    expect(error.limit).toBe(limit);
    expect(error.message).toContain(String(limit));
  });

  test('writing to a bucket deleted while open is a not-found error', async () => {
    const name = bucketName('dropped');
    const store = await kv.open(name, { create: true });
    await kv.delete(name);

    const writing = await expectError(
      () => store.put('a', bytes('1')),
      NotFoundError,
    );
    const reading = await expectError(() => store.get('a'), NotFoundError);

    expect(writing.kind).toBe('kv-bucket');
    expect(reading.kind).toBe('kv-bucket');
  });

  test('a stream prefix keeps the buckets of two deployments apart', async () => {
    const other = await openContext(shared.server, { streamPrefix: 'blue_' });
    try {
      const blue = new NatsKv(other);
      const name = bucketName('shared');
      await blue.open(name, { create: true });

      const listed = await blue.list();

      expect(listed).toContain(name);
      expect(await kv.list()).not.toContain(name);
      await expectError(() => kv.open(name, { create: false }), NotFoundError);
      await shared.ctx.jsm.streams.info(`KV_blue_${name}`);
    } finally {
      await closeNatsContext(other);
    }
  });

  test('the buckets of idempotency tables are not listed', async () => {
    const table = bucketName('table');
    await new NatsIdempotency(shared.ctx).open(table);

    expect(await kv.list()).not.toContain(table);
    expect((await kv.list()).some((name) => name.includes('_'))).toBe(false);
  });

  test('a deleted bucket is gone from the list and cannot be opened', async () => {
    const name = bucketName('gone');
    await kv.open(name, { create: true });

    await kv.delete(name);

    expect(await kv.list()).not.toContain(name);
    await expectError(() => kv.open(name, { create: false }), NotFoundError);
  });
});
