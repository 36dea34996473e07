/**
 * Conformance of key-value buckets: reads and writes, revisions and
 * compare-and-swap under contention, listing by prefix, validation.
 */
import { describe, expect } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../core/errors.ts';
import type { KvBucket } from '../core/kv.ts';
import { workerState as state, type WorkerState } from './data.ts';
import {
  collect,
  expectError,
  sameBytes,
  times,
  uniqueName,
} from './helpers.ts';
import type { Kit } from './kit.ts';

/** Adds one to a counter, retrying on conflict; returns the tries it took. */
async function increment(
  bucket: KvBucket<number>,
  key: string,
): Promise<number> {
  for (let tries = 1; ; tries += 1) {
    const entry = await bucket.get(key);
    try {
      if (entry === undefined) await bucket.create(key, 1);
      else await bucket.update(key, entry.value + 1, entry.revision);
      return tries;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/** Registers the cases of key-value buckets. */
export function kvCases(kit: Kit): void {
  describe('key-value', () => {
    kit.test(
      'put then get returns the value with its revision and update time',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        const revision = await bucket.put('worker.1', state(1));
        const entry = await bucket.get('worker.1');

        expect(entry?.key).toBe('worker.1');
        expect(entry?.value).toEqual(state(1));
        expect(entry?.revision).toBe(revision);
        expect(entry?.updatedAt).toBeInstanceOf(Date);
      },
    );

    kit.test('get of a missing key returns undefined', async (scope) => {
      const client = await scope.client();
      const bucket = client.kv<WorkerState>(uniqueName('workers'));

      expect(await bucket.get('worker.404')).toBeUndefined();
    });

    kit.test('every write gives the key a new revision', async (scope) => {
      const client = await scope.client();
      const bucket = client.kv<WorkerState>(uniqueName('workers'));

      const first = await bucket.put('worker.1', state(1, 1));
      const second = await bucket.put('worker.1', state(1, 2));
      const third = await bucket.update('worker.1', state(1, 3), second);
      const entry = await bucket.get('worker.1');

      expect(new Set([first, second, third]).size).toBe(3);
      expect(entry?.revision).toBe(third);
      expect(entry?.value.blocks).toBe(3);
    });

    kit.test(
      'create writes an absent key, and on an existing key throws ConflictError',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        await bucket.create('worker.1', state(1, 1));
        await expectError(
          () => bucket.create('worker.1', state(1, 2)),
          ConflictError,
        );

        expect((await bucket.get('worker.1'))?.value.blocks).toBe(1);
      },
    );

    kit.test(
      'update with a stale revision throws ConflictError with the expected and actual revisions',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        const stale = await bucket.put('worker.1', state(1, 1));
        const current = await bucket.update('worker.1', state(1, 2), stale);
        const error = await expectError(
          () => bucket.update('worker.1', state(1, 3), stale),
          ConflictError,
        );

        expect(error.expected).toBe(stale);
        expect(error.actual).toBe(current);
        expect((await bucket.get('worker.1'))?.value.blocks).toBe(2);
      },
    );

    kit.test('update of an absent key throws ConflictError', async (scope) => {
      const client = await scope.client();
      const bucket = client.kv<WorkerState>(uniqueName('workers'));
      const revision = await bucket.put('worker.1', state(1));

      await expectError(
        () => bucket.update('worker.2', state(2), revision),
        ConflictError,
      );
    });

    kit.test(
      'delete removes a key, and deleting an absent key succeeds',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        await bucket.put('worker.1', state(1));
        await bucket.delete('worker.1');
        await bucket.delete('worker.404');

        expect(await bucket.get('worker.1')).toBeUndefined();
      },
    );

    kit.test('a deleted key can be created again', async (scope) => {
      const client = await scope.client();
      const bucket = client.kv<WorkerState>(uniqueName('workers'));

      const first = await bucket.create('worker.1', state(1, 1));
      await bucket.delete('worker.1');
      const second = await bucket.create('worker.1', state(1, 2));
      const entry = await bucket.get('worker.1');

      expect(second).not.toBe(first);
      expect(entry?.value.blocks).toBe(2);
    });

    kit.test(
      'delete with a stale revision throws ConflictError and keeps the key',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        const stale = await bucket.put('worker.1', state(1, 1));
        const current = await bucket.put('worker.1', state(1, 2));
        await expectError(
          () => bucket.delete('worker.1', { revision: stale }),
          ConflictError,
        );
        const kept = await bucket.get('worker.1');
        await bucket.delete('worker.1', { revision: current });

        expect(kept?.value.blocks).toBe(2);
        expect(await bucket.get('worker.1')).toBeUndefined();
      },
    );

    kit.test(
      'compare-and-swap under 10 concurrent writers lets exactly one win',
      async (scope) => {
        const [first, second] = [await scope.client(), await scope.client()];
        const name = uniqueName('workers');
        const buckets = [
          first.kv<WorkerState>(name),
          second.kv<WorkerState>(name),
        ];
        const revision = await first
          .kv<WorkerState>(name)
          .put('worker.1', state(1, 0));

        const outcomes = await Promise.allSettled(
          times(10, (i) =>
            buckets[i % 2]!.update('worker.1', state(1, i + 1), revision),
          ),
        );
        const won = outcomes.flatMap((o, i) =>
          o.status === 'fulfilled' ? [i + 1] : [],
        );
        const lost = outcomes.flatMap((o) =>
          o.status === 'rejected' ? [o.reason] : [],
        );

        expect(won).toHaveLength(1);
        expect(lost.every((reason) => reason instanceof ConflictError)).toBe(
          true,
        );
        expect((await buckets[0]!.get('worker.1'))?.value.blocks).toBe(won[0]);
      },
    );

    kit.test(
      'an increment loop that retries on conflict loses no update',
      async (scope) => {
        const [first, second] = [await scope.client(), await scope.client()];
        const name = uniqueName('counters');
        const buckets = [first.kv<number>(name), second.kv<number>(name)];
        const workers = 6;
        const each = 8;

        await Promise.all(
          times(workers, async (w) => {
            for (let i = 0; i < each; i += 1) {
              await increment(buckets[w % 2]!, 'hits');
            }
          }),
        );

        expect((await buckets[0]!.get('hits'))?.value).toBe(workers * each);
      },
    );

    kit.test(
      'keys and entries by prefix come in ascending key order',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<number>(uniqueName('workers'));

        for (const key of [
          'worker.2',
          'router',
          'worker.10',
          'worker.1',
          'workers',
        ]) {
          await bucket.put(key, key.length);
        }
        const all = await collect(bucket.keys());
        const workers = await collect(bucket.keys('worker.'));
        const entries = await collect(bucket.entries('worker.'));

        expect(all).toEqual([
          'router',
          'worker.1',
          'worker.10',
          'worker.2',
          'workers',
        ]);
        expect(workers).toEqual(['worker.1', 'worker.10', 'worker.2']);
        expect(entries.map((e) => [e.key, e.value])).toEqual([
          ['worker.1', 8],
          ['worker.10', 9],
          ['worker.2', 8],
        ]);
      },
    );

    kit.test(
      'invalid keys and prefixes are refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<number>(uniqueName('workers'));
        const keys = [
          '',
          '.a',
          'a.',
          'a..b',
          'has space',
          'a/b',
          'ü',
          'x'.repeat(513),
        ];

        for (const key of keys) {
          await expectError(() => bucket.put(key, 1), ValidationError);
          await expectError(() => bucket.get(key), ValidationError);
        }
        await expectError(() => bucket.keys('a..b'), ValidationError);
      },
    );

    kit.test(
      'invalid bucket names are refused with ValidationError',
      async (scope) => {
        const client = await scope.client();

        for (const name of ['kv', 'Workers', 'work_ers', 'workers-']) {
          await expectError(
            () => client.kv<number>(name).get('a'),
            ValidationError,
          );
        }
      },
    );

    kit.test(
      'an unknown bucket with create false throws NotFoundError',
      async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<number>(uniqueName('missing'), {
          create: false,
        });

        const error = await expectError(() => bucket.get('a'), NotFoundError);

        expect(error.kind).toBe('kv-bucket');
      },
    );

    kit.test('values round-trip through the bucket codec', async (scope) => {
      const client = await scope.client();
      const bucket = client.kv<{ hash: Uint8Array; depth: number }>(
        uniqueName('blocks'),
        {
          codec: 'msgpack',
        },
      );
      const hash = new Uint8Array([9, 0, 255, 7]);

      await bucket.put('block.1', { hash, depth: 3 });
      const entry = await bucket.get('block.1');

      expect(entry?.value.depth).toBe(3);
      expect(sameBytes(entry!.value.hash, hash)).toBe(true);
    });

    kit.test('two clients see each other’s writes', async (scope) => {
      const [first, second] = [await scope.client(), await scope.client()];
      const name = uniqueName('workers');

      await first.kv<WorkerState>(name).put('worker.1', state(1));
      const seen = await second.kv<WorkerState>(name).get('worker.1');

      expect(seen?.value).toEqual(state(1));
    });
  });
}
