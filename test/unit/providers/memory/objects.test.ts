import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../../src/core/errors.ts';
import type { ObjectStore, Provider } from '../../../../src/core/provider.ts';
import { namespaceFixture } from './fixtures.ts';

const fixture = namespaceFixture();
let provider: Provider;
let bucket: ObjectStore;
const encoder = new TextEncoder();

async function* parts(...texts: string[]): AsyncIterable<Uint8Array> {
  for (const part of texts) yield encoder.encode(part);
}

async function read(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

beforeEach(async () => {
  provider = await fixture.provider();
  bucket = await provider.objects!.open('snapshots', { create: true });
});
afterEach(() => fixture.cleanup());

describe('memory object buckets', () => {
  it('raises NotFoundError for an absent bucket opened without create', async () => {
    const attempt = provider.objects!.open('absent', { create: false });

    await expect(attempt).rejects.toMatchObject({ kind: 'object-bucket' });
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stores a streamed body whole and reads it back', async () => {
    const info = await bucket.put('index/1.json', parts('{"a"', ':1}'), {
      contentType: 'application/json',
    });

    const stored = await bucket.get('index/1.json');

    expect(info).toMatchObject({ size: 7, contentType: 'application/json' });
    expect(await read(stored!.body)).toBe('{"a":1}');
  });

  it('gives every write a new etag', async () => {
    const first = await bucket.put('a', encoder.encode('x'), {});
    const second = await bucket.put('a', encoder.encode('x'), {});

    expect(second.etag).not.toBe(first.etag);
  });

  it('writes and deletes conditionally on the etag', async () => {
    const first = await bucket.put('a', encoder.encode('1'), {});
    const second = await bucket.put('a', encoder.encode('2'), {
      ifEtag: first.etag,
    });

    const stale = bucket.put('a', encoder.encode('3'), { ifEtag: first.etag });
    const present = bucket.put('a', encoder.encode('4'), { ifAbsent: true });

    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toMatchObject({
      expected: first.etag,
      actual: second.etag,
    });
    await expect(present).rejects.toBeInstanceOf(ConflictError);
    await expect(bucket.delete('a', { ifEtag: first.etag })).rejects.toThrow(
      ConflictError,
    );
    expect(await bucket.delete('a', { ifEtag: second.etag })).toBe(true);
    expect(await bucket.delete('a')).toBe(false);
  });

  it('lists objects under a prefix in name order', async () => {
    for (const name of ['b/2', 'a/1', 'b/1', 'b10']) {
      await bucket.put(name, encoder.encode(name), {});
    }

    const names: string[] = [];
    for await (const info of bucket.list('b/')) names.push(info.name);

    expect(names).toEqual(['b/1', 'b/2']);
  });
});
