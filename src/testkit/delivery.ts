/**
 * Conformance of failure handling: retries with backoff, delayed retries,
 * dead letters and their replay, and what closing does to work in flight.
 */
import { describe, expect } from 'vitest';
import type { Channel } from '../core/channel.ts';
import {
  CapabilityError,
  ClosedError,
  PermanentError,
  RetryLaterError,
} from '../core/errors.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { type Order, order } from './data.ts';
import {
  createGate,
  createRecorder,
  expectDeadLetters,
  expectDrained,
  expectError,
  uniqueName,
} from './helpers.ts';
import type { Kit, Scope } from './kit.ts';

const FAST_BACKOFF = { initialDelayMs: 10, maxDelayMs: 50 } as const;

/** A client and a channel with the group `billing` declared. */
async function billing(
  scope: Scope,
): Promise<{ client: Switchyard; channel: Channel<Order>; name: string }> {
  const name = uniqueName('orders');
  const client = await scope.client();
  const channel = client.channel<Order>(name, { groups: ['billing'] });
  return { client, channel, name };
}

/** Dead-letters one message per id through a pull consumer. */
async function deadLetterAll(
  scope: Scope,
  channel: Channel<Order>,
  ids: readonly string[],
): Promise<void> {
  for (const [i, id] of ids.entries()) await channel.publish(order(i), { id });
  const consumer = await channel.consumer({ group: 'billing' });
  const deliveries = await scope.fetchUntil(consumer, ids.length);
  deliveries.sort((a, b) => a.message.sequence - b.message.sequence);
  for (const delivery of deliveries) await delivery.deadLetter('rejected');
  await consumer.close();
}

/** Registers the cases of retries, dead letters and shutdown. */
export function deliveryCases(kit: Kit): void {
  describe('retries and dead letters', () => {
    kit.test(
      'a failing handler is retried, then dead-lettered after maxAttempts with the error and the attempt count',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const recorder = createRecorder<Order>((message) => {
          throw new Error(`card declined for ${message.data.orderId}`);
        });

        await channel.publish(order(1));
        channel.subscribe(recorder.handler, {
          group: 'billing',
          maxAttempts: 3,
          backoff: FAST_BACKOFF,
        });
        const [letter] = await scope.eventually(() =>
          expectDeadLetters(client, name, 1),
        );

        expect(recorder.runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
        expect(letter?.reason).toContain('card declined for order-1');
        expect(letter?.attempts).toBe(3);
        expect(letter?.group).toBe('billing');
      },
    );

    kit.test(
      'a PermanentError dead-letters the message at once',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const recorder = createRecorder<Order>(() => {
          throw new PermanentError('order is malformed');
        });

        await channel.publish(order(1));
        channel.subscribe(recorder.handler, {
          group: 'billing',
          maxAttempts: 5,
        });
        const [letter] = await scope.eventually(() =>
          expectDeadLetters(client, name, 1),
        );

        expect(recorder.runs).toHaveLength(1);
        expect(letter?.attempts).toBe(1);
        expect(letter?.reason).toContain('order is malformed');
      },
    );

    kit.test(
      'a RetryLaterError delivers the message again without dead-lettering it',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const recorder = createRecorder<Order>((_, context) => {
          if (context.attempt === 1) throw new RetryLaterError(200);
        });

        await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
        });
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(1),
        );

        expect(recorder.runs.map((r) => r.attempt)).toEqual([1, 2]);
        expect(subscription.stats.retried).toBeGreaterThanOrEqual(1);
        expect(await client.admin.deadLetters(name)).toEqual([]);
      },
    );

    if (kit.supports('delayedRetry')) {
      kit.test(
        'a delayed retry is not delivered again before its delay',
        async (scope) => {
          const { channel } = await billing(scope);

          const receipt = await channel.publish(order(1));
          const consumer = await channel.consumer({ group: 'billing' });
          const [delivery] = await scope.fetchUntil(consumer, 1);
          await delivery?.retry({ delayMs: 2_000 });
          const early = await consumer.fetch(1, { waitMs: 200 });
          const [later] = await scope.fetchUntil(consumer, 1);

          expect(early).toEqual([]);
          expect(later?.message.id).toBe(receipt.id);
          expect(later?.attempt).toBe(2);
        },
      );
    } else {
      kit.test(
        'asking for a delayed retry throws CapabilityError',
        async (scope) => {
          const { channel } = await billing(scope);

          await channel.publish(order(1));
          const consumer = await channel.consumer({ group: 'billing' });
          const [delivery] = await scope.fetchUntil(consumer, 1);

          const error = await expectError(
            () => delivery?.retry({ delayMs: 2_000 }),
            CapabilityError,
          );
          expect(error.feature).toBe('delayedRetry');
        },
      );
    }

    kit.test(
      'replayDeadLetters puts dead letters back and they are handled',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        let broken = true;
        const recorder = createRecorder<Order>(() => {
          if (broken) throw new PermanentError('downstream is down');
        });

        await channel.publish(order(1), { id: 'order-1' });
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
        });
        await scope.eventually(() =>
          expect(subscription.stats.deadLettered).toBe(1),
        );
        broken = false;
        const replayed = await client.admin.replayDeadLetters(name);
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(1),
        );

        expect(replayed).toBe(1);
        expect(recorder.ids()).toEqual(['order-1', 'order-1']);
        expect(recorder.runs[1]?.attempt).toBe(1);
        expect(await client.admin.deadLetters(name)).toEqual([]);
      },
    );

    kit.test('replayDeadLetters with ids replays only those', async (scope) => {
      const { client, channel, name } = await billing(scope);

      await deadLetterAll(scope, channel, ['order-1', 'order-2']);
      const replayed = await client.admin.replayDeadLetters(name, {
        ids: ['order-2'],
      });
      const left = await client.admin.deadLetters(name);
      const consumer = await channel.consumer({ group: 'billing' });
      const back = await scope.fetchUntil(consumer, 1, { ack: true });
      await scope.expectNothing(consumer);

      expect(replayed).toBe(1);
      expect(left.map((l) => l.message.id)).toEqual(['order-1']);
      expect(back.map((d) => d.message.id)).toEqual(['order-2']);
    });

    kit.test(
      'deadLetters lists the oldest first and honours the limit',
      async (scope) => {
        const { client, channel, name } = await billing(scope);

        await deadLetterAll(scope, channel, ['order-1', 'order-2', 'order-3']);
        const all = await client.admin.deadLetters(name);
        const first = await client.admin.deadLetters(name, { limit: 2 });

        expect(all.map((l) => l.message.id)).toEqual([
          'order-1',
          'order-2',
          'order-3',
        ]);
        expect(first.map((l) => l.message.id)).toEqual(['order-1', 'order-2']);
      },
    );

    kit.test(
      'purgeDeadLetters removes the dead letters and says how many',
      async (scope) => {
        const { client, channel, name } = await billing(scope);

        await deadLetterAll(scope, channel, ['order-1', 'order-2']);
        const purged = await client.admin.purgeDeadLetters(name);

        expect(purged).toBe(2);
        expect(await client.admin.deadLetters(name)).toEqual([]);
        expect((await client.admin.stats(name)).deadLettered).toBe(0);
      },
    );
  });

  describe('shutdown', () => {
    kit.test(
      'close lets a handler in flight finish within the deadline and acknowledges it',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const started = createGate();
        let finished = false;
        const recorder = createRecorder<Order>(async () => {
          started.open();
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished = true;
        });

        await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
        });
        await started.opened;
        await subscription.close({ timeoutMs: scope.timeouts.eventuallyMs });
        const finishedAtClose = finished;
        await scope.eventually(() => expectDrained(client, name, 'billing'));
        const consumer = await channel.consumer({ group: 'billing' });
        await scope.expectNothing(consumer);

        expect(finishedAtClose).toBe(true);
      },
    );

    kit.test(
      'a handler past the close deadline is aborted and its message is delivered again',
      async (scope) => {
        const { channel } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;
        const started = createGate();
        let aborted = false;
        const recorder = createRecorder<Order>(
          (_, context) =>
            new Promise((_resolve, reject) => {
              started.open();
              context.signal.addEventListener('abort', () => {
                aborted = true;
                reject(context.signal.reason);
              });
            }),
        );

        const receipt = await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
          leaseMs,
        });
        await started.opened;
        await subscription.close({ timeoutMs: 100 });
        const consumer = await channel.consumer({ group: 'billing', leaseMs });
        const [again] = await scope.fetchUntil(consumer, 1);

        expect(aborted).toBe(true);
        expect(again?.message.id).toBe(receipt.id);
        expect(again?.attempt).toBe(2);
      },
    );

    kit.test(
      'close does not wait past its deadline for a handler that ignores the abort, and acknowledges nothing of it',
      async (scope) => {
        const { channel } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;
        const started = createGate();
        const release = createGate();
        scope.defer(() => release.open());
        const recorder = createRecorder<Order>(async () => {
          started.open();
          await release.opened;
        });

        const receipt = await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
          leaseMs,
        });
        await started.opened;
        await subscription.close({ timeoutMs: 100 });
        release.open();
        const consumer = await channel.consumer({ group: 'billing', leaseMs });
        const [again] = await scope.fetchUntil(consumer, 1);

        expect(again?.message.id).toBe(receipt.id);
        expect(again?.attempt).toBe(2);
      },
    );

    kit.test(
      'a subscription whose signal aborts stops handling messages',
      async (scope) => {
        const { channel } = await billing(scope);
        const controller = new AbortController();
        const recorder = createRecorder<Order>();

        await channel.publish(order(1), { id: 'order-1' });
        channel.subscribe(recorder.handler, {
          group: 'billing',
          leaseMs: scope.timeouts.leaseMs,
          signal: controller.signal,
        });
        await scope.eventually(() => expect(recorder.runs).toHaveLength(1));
        controller.abort();
        await new Promise((resolve) =>
          setTimeout(resolve, scope.timeouts.quietMs),
        );
        await channel.publish(order(2), { id: 'order-2' });
        const consumer = await channel.consumer({ group: 'billing' });
        const [left] = await scope.fetchUntil(consumer, 1);

        expect(recorder.ids()).toEqual(['order-1']);
        expect(left?.message.id).toBe('order-2');
      },
    );

    kit.test('closing a subscription twice is harmless', async (scope) => {
      const { channel } = await billing(scope);
      const subscription = channel.subscribe(() => {}, { group: 'billing' });

      await subscription.close();
      await subscription.close();

      expect(subscription.stats.inFlight).toBe(0);
    });

    kit.test(
      'a closed client refuses further work with ClosedError',
      async (scope) => {
        const { client, channel } = await billing(scope);

        await client.close();
        await client.close();

        await expectError(() => channel.publish(order(1)), ClosedError);
        await expectError(
          () => client.kv(uniqueName('state')).get('a'),
          ClosedError,
        );
      },
    );
  });
}
