import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createSwitchyard } from '../../../src/core/client.ts';
import {
  CapabilityError,
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../../../src/core/errors.ts';
import type { KvEvent } from '../../../src/core/kv.ts';
import type { Provider } from '../../../src/core/provider.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { memoryProvider } from '../delivery/helpers.ts';

let client: Switchyard;

afterEach(async () => {
  await client?.close();
});

async function connect(patch?: (provider: Provider) => Provider) {
  const provider = await memoryProvider();
  client = createSwitchyard({ provider: patch ? patch(provider) : provider });
  return client;
}

function without(feature: string) {
  return (provider: Provider): Provider => ({
    ...provider,
    capabilities: {
      ...provider.capabilities,
      unsupported: { [feature]: `no ${feature} here` },
    },
  });
}

describe('a key-value bucket', () => {
  it('stores values through its codec and returns decoded entries', async () => {
    const kv = (await connect()).kv<{ blocks: number }>('router-index', {
      codec: 'msgpack',
    });

    const revision = await kv.put('worker.1', { blocks: 3 });
    const entry = await kv.get('worker.1');

    expect(entry).toMatchObject({
      key: 'worker.1',
      value: { blocks: 3 },
      revision,
    });
    expect(entry?.updatedAt).toBeInstanceOf(Date);
  });

  it('compares and swaps on revision', async () => {
    const kv = (await connect()).kv<number>('router-index');
    const first = await kv.create('count', 1);

    const second = await kv.update('count', 2, first);
    const stale = kv.update('count', 3, first);

    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(kv.create('count', 9)).rejects.toBeInstanceOf(ConflictError);
    expect((await kv.get('count'))?.revision).toBe(second);
  });

  it('lists keys and entries by prefix', async () => {
    const kv = (await connect()).kv<number>('router-index');
    await kv.put('worker.2', 2);
    await kv.put('worker.1', 1);
    await kv.put('model.a', 0);

    const keys: string[] = [];
    for await (const key of kv.keys('worker.')) keys.push(key);
    const values: number[] = [];
    for await (const entry of kv.entries()) values.push(entry.value);

    expect(keys).toEqual(['worker.1', 'worker.2']);
    expect(values).toEqual([0, 1, 2]);
  });

  it('refuses an invalid key or prefix', async () => {
    const kv = (await connect()).kv('router-index');

    await expect(kv.put('bad key', 1)).rejects.toBeInstanceOf(ValidationError);
    expect(() => kv.keys('..')).toThrow(ValidationError);
  });

  it('watches: a snapshot, then puts and deletes', async () => {
    const kv = (await connect()).kv<number>('router-index');
    await kv.put('worker.1', 1);
    const controller = new AbortController();
    const events: KvEvent<number>[] = [];

    const watching = (async () => {
      for await (const event of kv.watch({ signal: controller.signal })) {
        events.push(event);
        if (event.type === 'snapshot') {
          await kv.put('worker.2', 2);
          await kv.delete('worker.1');
        }
        if (event.type === 'delete') break;
      }
    })();
    await watching;

    expect(events.map((e) => e.type)).toEqual(['snapshot', 'put', 'delete']);
    expect(events[0]).toMatchObject({
      entries: [{ key: 'worker.1', value: 1 }],
    });
    expect(events[1]).toMatchObject({ entry: { key: 'worker.2', value: 2 } });
    controller.abort();
  });

  it('refuses watch at the call on a provider without it', async () => {
    const kv = (await connect(without('watch'))).kv('router-index');

    expect(() => kv.watch()).toThrow(CapabilityError);
  });

  it('refuses a TTL on a provider without kvTtl', async () => {
    const connected = await connect(without('kvTtl'));

    expect(() => connected.kv('sessions', { ttlMs: 1000 })).toThrow(
      CapabilityError,
    );
  });

  it('with create: false fails on first use when the bucket is missing', async () => {
    const kv = (await connect()).kv('missing', { create: false });

    await expect(kv.get('a')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('an object bucket', () => {
  it('stores bytes, strings, streams and async iterables', async () => {
    const bucket = (await connect()).objects('snapshots');
    async function* parts() {
      yield new TextEncoder().encode('it');
      yield new TextEncoder().encode('er');
    }

    await bucket.put('a.bin', new Uint8Array([1, 2]));
    await bucket.put('b.txt', 'text');
    await bucket.put('c.txt', Readable.from([Buffer.from('str'), 'eam']));
    const info = await bucket.put('d.txt', parts());

    expect(await bucket.get('a.bin')).toEqual(new Uint8Array([1, 2]));
    expect(new TextDecoder().decode(await bucket.get('b.txt'))).toBe('text');
    expect(new TextDecoder().decode(await bucket.get('c.txt'))).toBe('stream');
    expect(info.size).toBe(4);
    expect((await bucket.head('b.txt'))?.contentType).toBe(
      'text/plain; charset=utf-8',
    );
  });

  it('streams content back as a Readable', async () => {
    const bucket = (await connect()).objects('snapshots');
    await bucket.put('index/0001.json', 'x'.repeat(1000));

    const stream = await bucket.getStream('index/0001.json');
    let length = 0;
    for await (const chunk of stream) length += (chunk as Buffer).length;

    expect(stream).toBeInstanceOf(Readable);
    expect(length).toBe(1000);
  });

  it('writes and reads values through codecs', async () => {
    const bucket = (await connect()).objects('snapshots');

    await bucket.putValue('index.json', { workers: [1, 2] });
    await bucket.putValue('index.mp', { workers: [3] }, { codec: 'msgpack' });

    expect(await bucket.getValue('index.json')).toEqual({ workers: [1, 2] });
    expect(await bucket.getValue('index.mp')).toEqual({ workers: [3] });
    expect((await bucket.head('index.mp'))?.contentType).toBe(
      'application/msgpack',
    );
  });

  it('reports a missing object as a NotFoundError', async () => {
    const bucket = (await connect()).objects('snapshots');

    await expect(bucket.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(bucket.getValue('nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(await bucket.head('nope')).toBeUndefined();
  });

  it('writes conditionally on absence and on etag', async () => {
    const bucket = (await connect()).objects('snapshots');
    const first = await bucket.put('latest', 'v1', { ifAbsent: true });

    const again = bucket.put('latest', 'v2', { ifAbsent: true });
    const stale = bucket.put('latest', 'v2', { ifEtag: 'stale' });
    const next = await bucket.put('latest', 'v2', { ifEtag: first.etag });

    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect(next.etag).not.toBe(first.etag);
  });

  it('refuses conditional writes on a provider without them', async () => {
    const bucket = (await connect(without('conditionalObjects'))).objects(
      'snapshots',
    );

    await expect(
      bucket.put('latest', 'v1', { ifAbsent: true }),
    ).rejects.toBeInstanceOf(CapabilityError);
  });

  it('lists by prefix and deletes', async () => {
    const bucket = (await connect()).objects('snapshots');
    await bucket.put('index/2', 'b');
    await bucket.put('index/1', 'a');
    await bucket.put('other', 'c');

    const names: string[] = [];
    for await (const info of bucket.list('index/')) names.push(info.name);
    const existed = await bucket.delete('index/1');
    const absent = await bucket.delete('index/1');

    expect(names).toEqual(['index/1', 'index/2']);
    expect([existed, absent]).toEqual([true, false]);
  });

  it('refuses an invalid object name', async () => {
    const bucket = (await connect()).objects('snapshots');

    await expect(bucket.put('../etc', 'x')).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
