import { beforeAll, describe, expect, test } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/core/errors.ts';
import type { ObjectStore } from '../../src/core/provider.ts';
import { NatsObjects } from '../../src/providers/nats/objects.ts';
import { expectError } from '../../src/testkit/helpers.ts';
import { bucketName, bytes, serverForFile, text } from './fixtures.ts';

const shared = serverForFile();
let objects: NatsObjects;

beforeAll(() => {
  objects = new NatsObjects(shared.ctx);
});

async function freshBucket(): Promise<ObjectStore> {
  return objects.open(bucketName('objects'), { create: true });
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* pieces(count: number, size: number) {
  for (let i = 0; i < count; i += 1) yield new Uint8Array(size).fill(i);
}

describe('nats object buckets', () => {
  test('opening an absent bucket without create is a not-found error', async () => {
    const error = await expectError(
      () => objects.open(bucketName('absent'), { create: false }),
      NotFoundError,
    );

    expect(error.kind).toBe('object-bucket');
  });

  test('an object keeps its bytes, content type and metadata', async () => {
    const store = await freshBucket();

    const put = await store.put('reports/a.json', bytes('{"a":1}'), {
      contentType: 'application/json',
      metadata: { owner: 'ops' },
    });
    const got = await store.get('reports/a.json');

    expect(put).toMatchObject({
      name: 'reports/a.json',
      size: 7,
      contentType: 'application/json',
      metadata: { owner: 'ops' },
    });
    expect(got?.info).toEqual(put);
    expect(text(await readAll(got!.body))).toBe('{"a":1}');
  });

  test('a streamed body of many chunks is stored whole', async () => {
    const store = await freshBucket();

    const info = await store.put('big', pieces(40, 50_000), {});
    const got = await store.get('big');
    const body = await readAll(got!.body);

    expect(info.size).toBe(2_000_000);
    expect(body.length).toBe(2_000_000);
    expect(body[1_999_999]).toBe(39);
  });

  test('the etag changes on every write, even of the same bytes', async () => {
    const store = await freshBucket();

    const first = await store.put('a', bytes('same'), {});
    const second = await store.put('a', bytes('same'), {});

    expect(second.etag).not.toBe(first.etag);
    expect((await store.head('a'))?.etag).toBe(second.etag);
  });

  test('a put if absent on an existing object is a conflict', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'), { ifAbsent: true });

    const error = await expectError(
      () => store.put('a', bytes('2'), { ifAbsent: true }),
      ConflictError,
    );

    expect(error.actual).toBe(first.etag);
  });

  test('a put if absent after a delete succeeds', async () => {
    const store = await freshBucket();
    await store.put('a', bytes('1'), {});
    await store.delete('a');

    const info = await store.put('a', bytes('2'), { ifAbsent: true });

    expect((await store.head('a'))?.etag).toBe(info.etag);
  });

  test('of ten racing puts if absent exactly one wins', async () => {
    const store = await freshBucket();

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.put('lock', bytes(String(i)), { ifAbsent: true }),
      ),
    );

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const outcome of lost) {
      expect(outcome.reason).toBeInstanceOf(ConflictError);
    }
  });

  test('of ten racing puts on one etag exactly one wins', async () => {
    const store = await freshBucket();
    const { etag } = await store.put('doc', bytes('v0'), {});

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.put('doc', bytes(`v${i + 1}`), { ifEtag: etag }),
      ),
    );

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  test('a put on a stale etag is a conflict with expected and actual', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'), {});
    const second = await store.put('a', bytes('2'), {});

    const error = await expectError(
      () => store.put('a', bytes('3'), { ifEtag: first.etag }),
      ConflictError,
    );

    expect(error.expected).toBe(first.etag);
    expect(error.actual).toBe(second.etag);
  });

  test('a delete on a stale etag is a conflict and keeps the object', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'), {});
    await store.put('a', bytes('2'), {});

    await expectError(
      () => store.delete('a', { ifEtag: first.etag }),
      ConflictError,
    );

    expect(await store.head('a')).toBeDefined();
  });

  test('a delete says whether the object existed', async () => {
    const store = await freshBucket();
    const { etag } = await store.put('a', bytes('1'), {});

    const existed = await store.delete('a', { ifEtag: etag });
    const again = await store.delete('a');

    expect(existed).toBe(true);
    expect(again).toBe(false);
    expect(await store.get('a')).toBeUndefined();
  });

  test('list yields the objects under a prefix in name order', async () => {
    const store = await freshBucket();
    for (const name of ['b/2', 'a/1', 'b/1', 'b10', 'c']) {
      await store.put(name, bytes(name), {});
    }
    await store.delete('b/2');

    const names: string[] = [];
    for await (const info of store.list('b')) names.push(info.name);

    expect(names).toEqual(['b/1', 'b10']);
  });

  test('using a bucket deleted while open is a not-found error', async () => {
    const name = bucketName('dropped');
    const store = await objects.open(name, { create: true });
    await objects.delete(name);

    const writing = await expectError(
      () => store.put('a', bytes('1'), {}),
      NotFoundError,
    );
    const reading = await expectError(() => store.head('a'), NotFoundError);

    expect(writing.kind).toBe('object-bucket');
    expect(reading.kind).toBe('object-bucket');
  });

  test('a deleted bucket is gone from the list', async () => {
    const name = bucketName('gone');
    await objects.open(name, { create: true });

    await objects.delete(name);

    expect(await objects.list()).not.toContain(name);
    await expectError(
      () => objects.open(name, { create: false }),
      NotFoundError,
    );
  });
});
