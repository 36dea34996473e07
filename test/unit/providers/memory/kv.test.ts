import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../../src/core/errors.ts';
import type {
  KvStore,
  Provider,
  RawKvEvent,
} from '../../../../src/core/provider.ts';
import { eventually, namespaceFixture } from './fixtures.ts';

const fixture = namespaceFixture();
let provider: Provider;
let bucket: KvStore;
const bytes = (...values: number[]) => new Uint8Array(values);

beforeEach(async () => {
  provider = await fixture.provider();
  bucket = await provider.kv!.open('config', { create: true });
});
afterEach(() => fixture.cleanup());

describe('memory key-value buckets', () => {
  it('raises NotFoundError for an absent bucket opened without create', async () => {
    const attempt = provider.kv!.open('absent', { create: false });

    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    await expect(attempt).rejects.toMatchObject({ kind: 'kv-bucket' });
  });

  it('gives writes increasing revisions across the bucket', async () => {
    const first = await bucket.put('a', bytes(1));
    const second = await bucket.put('b', bytes(2));
    const third = await bucket.put('a', bytes(3));

    expect([first, second, third].map(Number)).toEqual([1, 2, 3]);
    expect(await bucket.get('a')).toMatchObject({ revision: third });
  });

  it('reports expected and actual revisions when an update loses', async () => {
    const revision = await bucket.put('a', bytes(1));
    await bucket.put('a', bytes(2));

    const attempt = bucket.update('a', bytes(3), revision);

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({
      expected: revision,
      actual: String(Number(revision) + 1),
    });
  });

  it('refuses to create a key that exists', async () => {
    await bucket.create('a', bytes(1));

    await expect(bucket.create('a', bytes(2))).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('lists keys under a prefix in ascending order', async () => {
    for (const key of ['w.2', 'w.1', 'x.1', 'w.10']) {
      await bucket.put(key, bytes(0));
    }

    const keys: string[] = [];
    for await (const key of bucket.keys('w.')) keys.push(key);

    expect(keys).toEqual(['w.1', 'w.10', 'w.2']);
  });

  it('forgets entries once the bucket TTL has passed since their last write', async () => {
    const short = await provider.kv!.open('short', {
      create: true,
      ttlMs: 100,
    });
    await short.put('a', bytes(1));

    await eventually(async () =>
      (await short.get('a')) === undefined ? true : undefined,
    );
    const keys: string[] = [];
    for await (const key of short.keys('')) keys.push(key);

    expect(keys).toEqual([]);
    expect(await short.create('a', bytes(2))).toBeTypeOf('string');
  });

  it('shares a bucket between providers of the namespace', async () => {
    const other = await fixture.provider();
    await bucket.put('a', bytes(7));

    const seen = await (await other.kv!.open('config', { create: false })).get(
      'a',
    );

    expect(seen?.value).toEqual(bytes(7));
  });
});

describe('memory key-value watch', () => {
  it('yields a snapshot, then puts and deletes under the prefix in order', async () => {
    await bucket.put('w.1', bytes(1));
    await bucket.put('other', bytes(0));
    const controller = new AbortController();
    const events: RawKvEvent[] = [];

    const watching = (async () => {
      for await (const event of bucket.watch({
        prefix: 'w.',
        signal: controller.signal,
      })) {
        events.push(event);
        if (events.length === 1) {
          await bucket.put('w.2', bytes(2));
          await bucket.put('other', bytes(1));
          await bucket.delete('w.1');
        }
        if (events.length === 3) controller.abort();
      }
    })();
    await watching;

    expect(events.map((e) => e.type)).toEqual(['snapshot', 'put', 'delete']);
    expect(events[0]).toMatchObject({
      entries: [{ key: 'w.1', value: bytes(1) }],
    });
    expect(events[1]).toMatchObject({ entry: { key: 'w.2' } });
    expect(events[2]).toMatchObject({ key: 'w.1' });
  });

  it('stops listening when the iterator is returned', async () => {
    const iterator = bucket.watch({ prefix: '' })[Symbol.asyncIterator]();
    await iterator.next();
    const pending = iterator.next();

    await iterator.return?.();

    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('ends when the provider that opened it closes', async () => {
    const iterator = bucket.watch({ prefix: '' })[Symbol.asyncIterator]();
    await iterator.next();

    const pending = iterator.next();
    await provider.close();

    expect(await pending).toMatchObject({ done: true });
  });
});
