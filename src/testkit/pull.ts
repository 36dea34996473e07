/**
 * Conformance of pull consumers and leases: fetch limits and waits, what
 * ack, retry and deadLetter do, and when a delivery that was not
 * acknowledged comes back.
 */
import { describe, expect } from 'vitest';
import { CapabilityError, ClosedError } from '../core/errors.ts';
import {
  billing,
  type Order,
  order,
  publishAndFetch,
  publishOrders,
} from './data.ts';
import {
  createRecorder,
  expectDeadLetters,
  expectError,
  sleep,
  uniqueName,
  within,
} from './helpers.ts';
import type { Kit } from './kit.ts';

/** Registers the cases of pull consumers and of leases. */
export function pullCases(kit: Kit): void {
  describe('pull', () => {
    kit.test(
      'fetch returns at most the number of deliveries asked for',
      async (scope) => {
        const { channel } = await billing(scope);

        await publishOrders(channel, [1, 2, 3, 4, 5]);
        const consumer = await channel.consumer({ group: 'billing' });
        const first = await scope.eventually(async () => {
          const batch = await consumer.fetch(3, {
            waitMs: scope.timeouts.quietMs,
          });
          return batch.length > 0 && batch;
        });
        const rest = await scope.fetchUntil(consumer, 5 - first.length);

        expect(first.length).toBeLessThanOrEqual(3);
        expect([...first, ...rest].map((d) => d.message.id).sort()).toEqual([
          'order-1',
          'order-2',
          'order-3',
          'order-4',
          'order-5',
        ]);
      },
    );

    kit.test(
      'fetch waits up to waitMs, then returns nothing when nothing came',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'));
        const consumer = await channel.consumer({ group: 'billing' });

        const batch = await consumer.fetch(5, {
          waitMs: scope.timeouts.quietMs,
        });

        expect(batch).toEqual([]);
      },
    );

    kit.test('a fetch stops waiting when its signal aborts', async (scope) => {
      const client = await scope.client();
      const channel = client.channel<Order>(uniqueName('orders'));
      const consumer = await channel.consumer({ group: 'billing' });
      const controller = new AbortController();
      const waitMs = scope.timeouts.caseMs * 10;

      const fetching = consumer.fetch(5, { waitMs, signal: controller.signal });
      await sleep(scope.timeouts.quietMs);
      controller.abort();
      const outcome = await within(
        fetching.then(
          (batch) => batch,
          (error: unknown) => error,
        ),
        scope.timeouts.eventuallyMs,
        'an aborted fetch',
      );

      expect(Array.isArray(outcome) ? outcome : []).toEqual([]);
    });

    kit.test('fetch on a closed consumer throws ClosedError', async (scope) => {
      const client = await scope.client();
      const channel = client.channel<Order>(uniqueName('orders'));
      const consumer = await channel.consumer({ group: 'billing' });

      await consumer.close();
      await consumer.close();

      await expectError(() => consumer.fetch(1, { waitMs: 10 }), ClosedError);
    });

    kit.test(
      'an acknowledged delivery is not delivered again',
      async (scope) => {
        const { channel } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;

        await channel.publish(order(1));
        const consumer = await channel.consumer({ group: 'billing', leaseMs });
        await scope.fetchUntil(consumer, 1, { ack: true });

        await scope.expectNothing(
          consumer,
          2 * leaseMs + scope.timeouts.quietMs,
        );
      },
    );

    kit.test(
      'retry delivers the message again with the next attempt',
      async (scope) => {
        const { channel } = await billing(scope);

        const { receipt, consumer, delivery } = await publishAndFetch(
          scope,
          channel,
        );
        await delivery?.retry();
        const [second] = await scope.fetchUntil(consumer, 1);

        expect(second?.message.id).toBe(receipt.id);
        expect(second?.message.data).toEqual(order(1));
        expect(second?.attempt).toBe(2);
      },
    );

    kit.test(
      'deadLetter moves the message to the dead letters with the reason',
      async (scope) => {
        const { client, channel, name } = await billing(scope);

        const { receipt, consumer, delivery } = await publishAndFetch(
          scope,
          channel,
        );
        await delivery?.deadLetter('unknown customer');
        const letters = await client.admin.deadLetters(name);
        await scope.expectNothing(consumer);

        expect(letters).toHaveLength(1);
        expect(letters[0]?.message.id).toBe(receipt.id);
        expect(letters[0]?.reason).toBe('unknown customer');
        expect(letters[0]?.group).toBe('billing');
        expect(letters[0]?.attempts).toBe(1);
      },
    );
  });

  describe('leases', () => {
    kit.test(
      'a delivery left unacknowledged by a client that closes is delivered again with attempt 2',
      async (scope) => {
        const name = uniqueName('orders');
        const leaseMs = scope.timeouts.leaseMs;
        const crashed = await scope.client();
        const channel = crashed.channel<Order>(name, { groups: ['billing'] });

        const receipt = await channel.publish(order(1));
        const first = await channel.consumer({ group: 'billing', leaseMs });
        await scope.fetchUntil(first, 1);
        await crashed.close();
        const survivor = await scope.client();
        const second = await survivor
          .channel<Order>(name)
          .consumer({ group: 'billing', leaseMs });
        const [again] = await scope.fetchUntil(second, 1);

        expect(again?.message.id).toBe(receipt.id);
        expect(again?.attempt).toBe(2);
      },
    );

    kit.test(
      'a delivery whose lease expires is delivered again',
      async (scope) => {
        const { channel } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;

        const receipt = await channel.publish(order(1));
        const consumer = await channel.consumer({ group: 'billing', leaseMs });
        await scope.fetchUntil(consumer, 1);
        const [again] = await scope.fetchUntil(consumer, 1);

        expect(again?.message.id).toBe(receipt.id);
        expect(again?.attempt).toBe(2);
      },
    );

    kit.test(
      'a pull delivery redelivered past maxAttempts is dead-lettered instead of returned',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;

        const receipt = await channel.publish(order(1));
        const consumer = await channel.consumer({
          group: 'billing',
          leaseMs,
          maxAttempts: 2,
        });
        await scope.fetchUntil(consumer, 1);
        await scope.fetchUntil(consumer, 1);
        await scope.expectNothing(
          consumer,
          2 * leaseMs + scope.timeouts.quietMs,
        );
        const [letter] = await scope.eventually(() =>
          expectDeadLetters(client, name, 1),
        );

        expect(letter?.message.id).toBe(receipt.id);
        expect(letter?.attempts).toBeGreaterThanOrEqual(2);
      },
    );

    if (!kit.supports('extendLease')) {
      kit.test(
        'asking to extend a lease throws CapabilityError',
        async (scope) => {
          const { channel } = await billing(scope);

          const { delivery } = await publishAndFetch(scope, channel);

          const error = await expectError(
            () => delivery?.extendLease(),
            CapabilityError,
          );
          expect(error.feature).toBe('extendLease');
        },
      );
      return;
    }

    kit.test(
      'extendLease keeps a delivery from other consumers while it is extended',
      async (scope) => {
        const name = uniqueName('orders');
        const leaseMs = scope.timeouts.leaseMs;
        const [holder, rival] = [await scope.client(), await scope.client()];
        const channel = holder.channel<Order>(name, { groups: ['billing'] });

        await channel.publish(order(1));
        const mine = await channel.consumer({ group: 'billing', leaseMs });
        const other = await rival
          .channel<Order>(name)
          .consumer({ group: 'billing', leaseMs });
        const [delivery] = await scope.fetchUntil(mine, 1);
        for (let round = 0; round < 4; round += 1) {
          await delivery?.extendLease(3 * leaseMs);
          await scope.expectNothing(other, leaseMs);
        }
        await delivery?.ack();

        await scope.expectNothing(other, 2 * leaseMs);
      },
    );

    kit.test(
      'a handler that extends its lease is not delivered again while it runs',
      async (scope) => {
        const name = uniqueName('orders');
        const leaseMs = scope.timeouts.leaseMs;
        const [holder, rival] = [await scope.client(), await scope.client()];
        const channel = holder.channel<Order>(name, { groups: ['billing'] });
        const slow = createRecorder<Order>(async (_, context) => {
          for (let round = 0; round < 4; round += 1) {
            await context.extendLease(3 * leaseMs);
            await sleep(leaseMs);
          }
        });
        const other = createRecorder<Order>();

        await channel.publish(order(1));
        const subscription = channel.subscribe(slow.handler, {
          group: 'billing',
          leaseMs,
        });
        await scope.eventually(() => expect(slow.runs).toHaveLength(1));
        rival
          .channel<Order>(name)
          .subscribe(other.handler, { group: 'billing', leaseMs });
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(1),
        );
        await sleep(2 * leaseMs);

        expect(slow.runs).toHaveLength(1);
        expect(other.runs).toHaveLength(0);
      },
    );
  });
}
