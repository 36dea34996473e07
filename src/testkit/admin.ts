/**
 * Conformance of channel administration: purging, listing and deleting
 * consumers and channels, and the counters of a channel.
 */
import { describe, expect } from 'vitest';
import { CapabilityError, NotFoundError } from '../core/errors.ts';
import type { ChannelStats } from '../core/provider.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { billing, type Order, order, publishOrders } from './data.ts';
import { expectError, uniqueName } from './helpers.ts';
import type { Kit } from './kit.ts';

/**
 * The stats of `channel` once they count `deadLettered` dead letters:
 * transports that count asynchronously get the time to catch up.
 */
async function statsOf(
  client: Switchyard,
  channel: string,
  deadLettered: number,
): Promise<ChannelStats> {
  const stats = await client.admin.stats(channel);

  expect(stats.deadLettered).toBe(deadLettered);
  return stats;
}

/** Registers the cases of channel administration. */
export function adminCases(kit: Kit): void {
  describe('admin', () => {
    kit.test('purge removes every message and says how many', async (scope) => {
      const { client, channel, name } = await billing(scope);

      await publishOrders(channel, [1, 2, 3]);
      const removed = await client.admin.purge(name);
      const consumer = await channel.consumer({ group: 'billing' });
      await scope.expectNothing(consumer);
      const stats = await scope.eventually(async () => {
        const current = await client.admin.stats(name);
        expect(current.depth).toBe(0);
        return current;
      });

      expect(removed).toBe(3);
      expect(stats.consumers.billing?.lag).toBe(0);
    });

    if (kit.supports('purgeAcknowledged')) {
      kit.test(
        'purge of acknowledged messages keeps what some group has not acknowledged',
        async (scope) => {
          const { client, channel, name } = await billing(scope, [
            'audit',
            'billing',
          ]);

          await publishOrders(channel, [1, 2, 3, 4]);
          const audit = await channel.consumer({ group: 'audit' });
          await scope.fetchUntil(audit, 4, { ack: true });
          const billingConsumer = await channel.consumer({ group: 'billing' });
          const taken = await scope.fetchUntil(billingConsumer, 4);
          taken.sort((a, b) => a.message.sequence - b.message.sequence);
          for (const delivery of taken.slice(0, 2)) await delivery.ack();
          for (const delivery of taken.slice(2)) await delivery.retry();
          const removed = await client.admin.purge(name, {
            acknowledged: true,
          });
          const kept = await scope.fetchUntil(billingConsumer, 2, {
            ack: true,
          });

          expect(removed).toBe(2);
          expect(kept.map((d) => d.message.id).sort()).toEqual([
            'order-3',
            'order-4',
          ]);
        },
      );
    } else {
      kit.test(
        'asking to purge only acknowledged messages throws CapabilityError',
        async (scope) => {
          const name = uniqueName('orders');
          const client = await scope.client();
          await client.channel<Order>(name).publish(order(1));

          const error = await expectError(
            () => client.admin.purge(name, { acknowledged: true }),
            CapabilityError,
          );

          expect(error.feature).toBe('purgeAcknowledged');
        },
      );
    }

    kit.test(
      'consumers lists the groups of a channel with what each has pending',
      async (scope) => {
        const { client, channel, name } = await billing(scope, [
          'audit',
          'billing',
        ]);

        await channel.publish(order(1));
        const consumers = await client.admin.consumers(name);
        const byName = new Map(consumers.map((c) => [c.name, c]));

        expect([...byName.keys()].sort()).toEqual(['audit', 'billing']);
        expect(byName.get('billing')).toMatchObject({
          mode: 'group',
          pending: 1,
          inFlight: 0,
        });
      },
    );

    kit.test(
      'deleteConsumer removes a group, and an unknown one throws NotFoundError',
      async (scope) => {
        const { client, channel, name } = await billing(scope, [
          'audit',
          'billing',
        ]);

        await channel.publish(order(1));
        await client.admin.deleteConsumer(name, 'audit');
        const consumers = await client.admin.consumers(name);
        const error = await expectError(
          () => client.admin.deleteConsumer(name, 'nobody'),
          NotFoundError,
        );

        expect(consumers.map((c) => c.name)).toEqual(['billing']);
        expect(error.kind).toBe('consumer');
      },
    );

    kit.test(
      'stats count depth, in flight, dead-lettered and lag per group',
      async (scope) => {
        const { client, channel, name } = await billing(scope, [
          'audit',
          'billing',
        ]);

        await publishOrders(channel, [1, 2, 3]);
        const before = await scope.eventually(() => statsOf(client, name, 0));
        const consumer = await channel.consumer({ group: 'billing' });
        const [done, rejected] = await scope.fetchUntil(consumer, 3);
        await done?.ack();
        await rejected?.deadLetter('rejected');
        const after = await scope.eventually(() => statsOf(client, name, 1));

        expect(before).toMatchObject({
          depth: 3,
          inFlight: 0,
          deadLettered: 0,
        });
        expect(before.consumers.billing).toEqual({ lag: 3, inFlight: 0 });
        expect(after.inFlight).toBe(1);
        expect(after.deadLettered).toBe(1);
        expect(after.consumers.billing).toEqual({ lag: 1, inFlight: 1 });
        expect(after.consumers.audit).toEqual({ lag: 3, inFlight: 0 });
      },
    );

    kit.test(
      'list names the channels, and delete removes one with its messages',
      async (scope) => {
        const [kept, removed] = [uniqueName('orders'), uniqueName('orders')];
        const client = await scope.client();
        const other = await scope.client();

        await client.channel<Order>(kept).publish(order(1));
        await client.channel<Order>(removed).publish(order(2));
        const listed = await client.admin.list();
        await client.admin.delete(removed);
        const left = await client.admin.list();
        const error = await expectError(
          () =>
            other.channel<Order>(removed, { create: false }).publish(order(3)),
          NotFoundError,
        );

        expect(listed).toEqual(expect.arrayContaining([kept, removed]));
        expect(left).toContain(kept);
        expect(left).not.toContain(removed);
        expect(error.kind).toBe('channel');
      },
    );
  });
}
