/**
 * Conformance of object buckets: whole and streamed content, typed
 * values, metadata, listing, deletion, conditional writes and validation.
 */
import { Readable } from 'node:stream';
import { describe, expect } from 'vitest';
import {
  CapabilityError,
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../core/errors.ts';
import { chunks, digest, seededBytes } from './data.ts';
import { collect, expectError, sameBytes, uniqueName } from './helpers.ts';
import type { Kit } from './kit.ts';

const MiB = 1024 * 1024;

/** A snapshot of a router index, the value typed cases store. */
interface IndexSnapshot {
  takenAt: string;
  workers: Record<string, string[]>;
}

function snapshot(): IndexSnapshot {
  return {
    takenAt: '2024-05-01T12:00:00.000Z',
    workers: { 'worker-1': ['b1', 'b2'], 'worker-2': [] },
  };
}

/** Registers the cases of object buckets. */
export function objectCases(kit: Kit): void {
  describe('objects', () => {
    kit.test(
      'bytes round-trip with their size, content type and metadata',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));
        const bytes = seededBytes(1000);

        const info = await bucket.put('blocks/one.bin', bytes, {
          contentType: 'application/octet-stream',
          metadata: { owner: 'router' },
        });
        const content = await bucket.get('blocks/one.bin');

        expect(info).toMatchObject({
          name: 'blocks/one.bin',
          size: 1000,
          contentType: 'application/octet-stream',
          metadata: { owner: 'router' },
        });
        expect(info.etag).not.toBe('');
        expect(sameBytes(content, bytes)).toBe(true);
      },
    );

    kit.test('a string round-trips as UTF-8', async (scope) => {
      const client = await scope.client();
      const bucket = client.objects(uniqueName('blobs'));
      const text = 'héllo, wörld ✓';

      const info = await bucket.put('notes/readme.txt', text);
      const content = await bucket.get('notes/readme.txt');

      expect(new TextDecoder().decode(content)).toBe(text);
      expect(info.size).toBe(Buffer.byteLength(text));
    });

    kit.test(
      'a stream of a few MiB round-trips without loss',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));
        const bytes = seededBytes(4 * MiB + 123);

        const info = await bucket.put(
          'snapshots/big.bin',
          chunks(bytes, 64 * 1024),
        );
        const stream = await bucket.getStream('snapshots/big.bin');
        const read = Buffer.concat(await collect<Uint8Array>(stream));

        expect(info.size).toBe(bytes.length);
        expect(read.length).toBe(bytes.length);
        expect(digest(read)).toBe(digest(bytes));
      },
    );

    kit.test('a Readable body is stored whole', async (scope) => {
      const client = await scope.client();
      const bucket = client.objects(uniqueName('blobs'));
      const bytes = seededBytes(MiB + 7, 'readable');

      await bucket.put(
        'snapshots/readable.bin',
        Readable.from(chunks(bytes, 10_000)),
      );
      const content = await bucket.get('snapshots/readable.bin');

      expect(digest(content)).toBe(digest(bytes));
    });

    kit.test(
      'putValue and getValue round-trip typed values through a codec',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));

        await bucket.putValue('index/latest.json', snapshot());
        await bucket.putValue('index/latest.msgpack', snapshot(), {
          codec: 'msgpack',
        });
        const asJson =
          await bucket.getValue<IndexSnapshot>('index/latest.json');
        const asMsgpack = await bucket.getValue<IndexSnapshot>(
          'index/latest.msgpack',
          {
            codec: 'msgpack',
          },
        );

        expect(asJson).toEqual(snapshot());
        expect(asMsgpack).toEqual(snapshot());
      },
    );

    kit.test(
      'head returns the metadata of an object, and undefined for a missing one',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));

        const written = await bucket.put('a.txt', 'abc', {
          metadata: { kind: 'note' },
        });
        const info = await bucket.head('a.txt');
        const missing = await bucket.head('b.txt');

        expect(info).toMatchObject({
          name: 'a.txt',
          size: 3,
          etag: written.etag,
          metadata: { kind: 'note' },
        });
        expect(missing).toBeUndefined();
      },
    );

    kit.test('list by prefix comes in ascending name order', async (scope) => {
      const client = await scope.client();
      const bucket = client.objects(uniqueName('blobs'));

      for (const name of ['logs/b', 'other/x', 'logs/a', 'logs/c/d', 'logsx']) {
        await bucket.put(name, name);
      }
      const logs = await collect(bucket.list('logs/'));
      const all = await collect(bucket.list());

      expect(logs.map((o) => o.name)).toEqual(['logs/a', 'logs/b', 'logs/c/d']);
      expect(logs.map((o) => o.size)).toEqual([6, 6, 8]);
      expect(all.map((o) => o.name)).toEqual([
        'logs/a',
        'logs/b',
        'logs/c/d',
        'logsx',
        'other/x',
      ]);
    });

    kit.test(
      'delete removes an object and says whether it existed',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));

        await bucket.put('a.txt', 'abc');
        const existed = await bucket.delete('a.txt');
        const again = await bucket.delete('a.txt');

        expect(existed).toBe(true);
        expect(again).toBe(false);
        expect(await bucket.head('a.txt')).toBeUndefined();
      },
    );

    kit.test('reading a missing object throws NotFoundError', async (scope) => {
      const client = await scope.client();
      const bucket = client.objects(uniqueName('blobs'));

      const error = await expectError(
        () => bucket.get('missing.bin'),
        NotFoundError,
      );
      await expectError(() => bucket.getStream('missing.bin'), NotFoundError);
      await expectError(() => bucket.getValue('missing.json'), NotFoundError);

      expect(error.kind).toBe('object');
    });

    kit.test(
      'a write replaces the content and changes the etag',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));

        const first = await bucket.put('a.txt', 'first');
        const second = await bucket.put('a.txt', 'second version');
        const content = await bucket.get('a.txt');

        expect(second.etag).not.toBe(first.etag);
        expect(second.size).toBe(14);
        expect(new TextDecoder().decode(content)).toBe('second version');
      },
    );

    if (kit.supports('conditionalObjects')) {
      kit.test(
        'a write with ifAbsent on an existing object throws ConflictError',
        async (scope) => {
          const client = await scope.client();
          const bucket = client.objects(uniqueName('blobs'));

          await bucket.put('lock', 'first', { ifAbsent: true });
          await expectError(
            () => bucket.put('lock', 'second', { ifAbsent: true }),
            ConflictError,
          );

          expect(new TextDecoder().decode(await bucket.get('lock'))).toBe(
            'first',
          );
        },
      );

      kit.test(
        'a write or delete with ifEtag succeeds on the current etag and conflicts on a stale one',
        async (scope) => {
          const client = await scope.client();
          const bucket = client.objects(uniqueName('blobs'));

          const stale = await bucket.put('index', 'v1');
          const current = await bucket.put('index', 'v2', {
            ifEtag: stale.etag,
          });
          await expectError(
            () => bucket.put('index', 'v3', { ifEtag: stale.etag }),
            ConflictError,
          );
          await expectError(
            () => bucket.delete('index', { ifEtag: stale.etag }),
            ConflictError,
          );
          const content = await bucket.get('index');
          const deleted = await bucket.delete('index', {
            ifEtag: current.etag,
          });

          expect(new TextDecoder().decode(content)).toBe('v2');
          expect(deleted).toBe(true);
        },
      );
    } else {
      kit.test(
        'asking for a conditional write throws CapabilityError',
        async (scope) => {
          const client = await scope.client();
          const bucket = client.objects(uniqueName('blobs'));

          const error = await expectError(
            () => bucket.put('lock', 'first', { ifAbsent: true }),
            CapabilityError,
          );

          expect(error.feature).toBe('conditionalObjects');
        },
      );
    }

    kit.test(
      'invalid object names are refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('blobs'));
        const names = [
          '',
          '/a',
          'a/',
          'a//b',
          '../x',
          'a/./b',
          'has space',
          'x'.repeat(1025),
        ];

        for (const name of names) {
          await expectError(() => bucket.put(name, 'x'), ValidationError);
          await expectError(() => bucket.get(name), ValidationError);
        }
      },
    );

    kit.test(
      'an unknown bucket with create false throws NotFoundError',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.objects(uniqueName('missing'), { create: false });

        const error = await expectError(
          () => bucket.head('a.txt'),
          NotFoundError,
        );

        expect(error.kind).toBe('object-bucket');
      },
    );

    kit.test(
      'an object written by one client is read by another',
      async (scope) => {
        const [first, second] = [await scope.client(), await scope.client()];
        const name = uniqueName('blobs');

        await first.objects(name).put('shared.txt', 'hello');
        const content = await second.objects(name).get('shared.txt');

        expect(new TextDecoder().decode(content)).toBe('hello');
      },
    );
  });
}
