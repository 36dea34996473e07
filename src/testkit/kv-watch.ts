/**
 * Conformance of key-value watches and entry expiry: a watch starts with
 * a snapshot and then yields every change in write order; entries of a
 * bucket with a TTL disappear after it.
 */
import { describe, expect } from 'vitest';
import { CapabilityError } from '../core/errors.ts';
import type { KvBucket, KvEvent } from '../core/kv.ts';
import { workerState as state, type WorkerState } from './data.ts';
import { expectError, uniqueName, within } from './helpers.ts';
import type { Kit, Scope } from './kit.ts';

/** Opens a watch and returns a function that awaits its next event. */
function watchEvents<T>(
  scope: Scope,
  bucket: KvBucket<T>,
  prefix?: string,
): () => Promise<KvEvent<T>> {
  const controller = new AbortController();
  const events = bucket
    .watch({ prefix, signal: controller.signal })
    [Symbol.asyncIterator]();
  scope.defer(async () => {
    controller.abort();
    await events.return?.();
  });

  return async () => {
    const next = await within(
      events.next(),
      scope.timeouts.eventuallyMs,
      'the next watch event',
    );
    if (next.done) throw new Error('the watch ended');
    return next.value;
  };
}

/** An event as its type and the key it concerns. */
function eventKey<T>(event: KvEvent<T>): [string, string | undefined] {
  if (event.type === 'put') return ['put', event.entry.key];
  if (event.type === 'delete') return ['delete', event.key];
  return ['snapshot', undefined];
}

/** Registers the cases of key-value watches and TTL. */
export function kvWatchCases(kit: Kit): void {
  describe('key-value watch and expiry', () => {
    if (kit.supports('watch')) {
      kit.test(
        'watch starts with a snapshot, then yields puts and deletes in write order',
        async (scope) => {
          const client = await scope.client();
          const bucket = client.kv<WorkerState>(uniqueName('workers'));
          await bucket.put('worker.1', state(1));
          await bucket.put('worker.2', state(2));

          const next = watchEvents(scope, bucket);
          const snapshot = await next();
          await bucket.put('worker.3', state(3));
          await bucket.put('worker.1', state(1, 99));
          await bucket.delete('worker.2');
          const changes = [await next(), await next(), await next()];

          expect(
            snapshot.type === 'snapshot' &&
              snapshot.entries.map((e) => e.key).sort(),
          ).toEqual(['worker.1', 'worker.2']);
          expect(changes.map(eventKey)).toEqual([
            ['put', 'worker.3'],
            ['put', 'worker.1'],
            ['delete', 'worker.2'],
          ]);
          expect(
            changes[1]?.type === 'put' && changes[1].entry.value.blocks,
          ).toBe(99);
        },
      );

      kit.test(
        'watch with a prefix sees only the keys under it',
        async (scope) => {
          const client = await scope.client();
          const bucket = client.kv<WorkerState>(uniqueName('workers'));
          await bucket.put('router.1', state(0));
          await bucket.put('worker.1', state(1));

          const next = watchEvents(scope, bucket, 'worker.');
          const snapshot = await next();
          await bucket.put('router.2', state(0));
          await bucket.put('worker.2', state(2));
          const change = await next();

          expect(
            snapshot.type === 'snapshot' && snapshot.entries.map((e) => e.key),
          ).toEqual(['worker.1']);
          expect(change.type === 'put' && change.entry.key).toBe('worker.2');
        },
      );

      kit.test('a watch sees the writes of another client', async (scope) => {
        const [watcher, writer] = [await scope.client(), await scope.client()];
        const name = uniqueName('workers');
        const bucket = watcher.kv<WorkerState>(name);

        const next = watchEvents(scope, bucket);
        const snapshot = await next();
        await writer.kv<WorkerState>(name).put('worker.1', state(1));
        const change = await next();

        expect(snapshot).toEqual({ type: 'snapshot', entries: [] });
        expect(change.type === 'put' && change.entry.value).toEqual(state(1));
      });
    } else {
      kit.test('asking for a watch throws CapabilityError', async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('workers'));

        const error = await expectError(() => bucket.watch(), CapabilityError);

        expect(error.feature).toBe('watch');
      });
    }

    if (kit.supports('kvTtl')) {
      kit.test('entries expire after the bucket TTL', async (scope) => {
        const client = await scope.client();
        const bucket = client.kv<WorkerState>(uniqueName('leases'), {
          ttlMs: 1_000,
        });

        await bucket.put('worker.1', state(1));
        const fresh = await bucket.get('worker.1');
        await scope.eventually(async () =>
          expect(await bucket.get('worker.1')).toBeUndefined(),
        );

        expect(fresh?.value).toEqual(state(1));
      });
    } else {
      kit.test(
        'asking for a bucket TTL throws CapabilityError',
        async (scope) => {
          const client = await scope.client();

          const error = await expectError(
            () =>
              client
                .kv<WorkerState>(uniqueName('leases'), { ttlMs: 1_000 })
                .put('worker.1', state(1)),
            CapabilityError,
          );

          expect(error.feature).toBe('kvTtl');
        },
      );
    }
  });
}
