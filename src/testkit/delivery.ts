/**
 * Conformance of failure handling: retries with backoff, delayed retries,
 * dead letters and their replay.
 */
import { describe, expect } from 'vitest';
import type { Channel } from '../core/channel.ts';
import {
  CapabilityError,
  PermanentError,
  RetryLaterError,
} from '../core/errors.ts';
import { billing, type Order, order, publishAndFetch } from './data.ts';
import { createRecorder, expectDeadLetters, expectError } from './helpers.ts';
import type { Kit, Scope } from './kit.ts';

const FAST_BACKOFF = { initialDelayMs: 10, maxDelayMs: 50 } as const;

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

/** Registers the cases of retries and dead letters. */
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

          const { receipt, consumer, delivery } = await publishAndFetch(
            scope,
            channel,
          );
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

          const { delivery } = await publishAndFetch(scope, channel);

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

    kit.test(
      'replayDeadLetters returns each message to the group it was dead-lettered from',
      async (scope) => {
        const { client, channel, name } = await billing(scope, [
          'audit',
          'billing',
        ]);

        await channel.publish(order(1), { id: 'order-1' });
        const audit = await channel.consumer({ group: 'audit' });
        const [rejected] = await scope.fetchUntil(audit, 1);
        await rejected?.deadLetter('audit rejected it');
        const billed = await channel.consumer({ group: 'billing' });
        await scope.fetchUntil(billed, 1, { ack: true });
        const replayed = await client.admin.replayDeadLetters(name);
        const [again] = await scope.fetchUntil(audit, 1, { ack: true });
        await scope.expectNothing(billed);

        expect(replayed).toBe(1);
        expect(again?.message.id).toBe('order-1');
        expect(again?.attempt).toBe(1);
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
}
