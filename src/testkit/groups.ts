/**
 * Conformance of consumer modes: worker groups that share a channel's
 * messages and resume after a restart, and broadcast consumers that each
 * see every message published while they are live.
 */
import { describe, expect } from 'vitest';
import { CapabilityError } from '../core/errors.ts';
import { billing, type Order, order, publishOrders } from './data.ts';
import {
  createGate,
  createRecorder,
  expectError,
  sleep,
  times,
  uniqueName,
} from './helpers.ts';
import type { Kit } from './kit.ts';

/** Registers the cases of worker groups and broadcast consumers. */
export function groupCases(kit: Kit): void {
  describe('worker groups', () => {
    kit.test(
      'two consumers in one group share the work with no duplicates',
      async (scope) => {
        const name = uniqueName('orders');
        const [first, second] = [await scope.client(), await scope.client()];
        const channel = first.channel<Order>(name, { groups: ['workers'] });
        const slow = () => sleep(20);
        const a = createRecorder<Order>(slow);
        const b = createRecorder<Order>(slow);
        const ids = times(20, (i) => `order-${i}`);

        for (const [i, id] of ids.entries()) {
          await channel.publish(order(i), { id });
        }
        const options = { group: 'workers', batchSize: 1 } as const;
        channel.subscribe(a.handler, options);
        second.channel<Order>(name).subscribe(b.handler, options);
        await scope.eventually(() =>
          expect(a.runs.length + b.runs.length).toBe(ids.length),
        );
        await sleep(scope.timeouts.quietMs);

        expect([...a.ids(), ...b.ids()].sort()).toEqual([...ids].sort());
        expect(a.runs.length).toBeGreaterThan(0);
        expect(b.runs.length).toBeGreaterThan(0);
      },
    );

    kit.test('two groups each receive every message', async (scope) => {
      const name = uniqueName('orders');
      const [first, second] = [await scope.client(), await scope.client()];
      const channel = first.channel<Order>(name, {
        groups: ['audit', 'billing'],
      });
      const audit = createRecorder<Order>();
      const billing = createRecorder<Order>();
      const ids = times(5, (i) => `order-${i}`);

      for (const [i, id] of ids.entries()) {
        await channel.publish(order(i), { id });
      }
      channel.subscribe(audit.handler, { group: 'audit' });
      second
        .channel<Order>(name)
        .subscribe(billing.handler, { group: 'billing' });
      await scope.eventually(() => {
        expect(audit.runs).toHaveLength(5);
        expect(billing.runs).toHaveLength(5);
      });

      expect(audit.ids().sort()).toEqual(ids);
      expect(billing.ids().sort()).toEqual(ids);
    });

    kit.test(
      'a durable group resumes where it left off after its consumer closes',
      async (scope) => {
        const name = uniqueName('orders');
        const producer = await scope.client();
        const channel = producer.channel<Order>(name, { groups: ['billing'] });
        const before = await scope.client();
        const leaseMs = scope.timeouts.leaseMs;

        await publishOrders(channel, [1, 2, 3]);
        const early = await before
          .channel<Order>(name)
          .consumer({ group: 'billing', leaseMs });
        await scope.fetchUntil(early, 3, { ack: true });
        await before.close();
        await publishOrders(channel, [4, 5, 6]);
        const after = await scope.client();
        const late = await after
          .channel<Order>(name)
          .consumer({ group: 'billing', leaseMs });
        const resumed = await scope.fetchUntil(late, 3, { ack: true });
        await scope.expectNothing(late, 2 * leaseMs + scope.timeouts.quietMs);

        expect(resumed.map((d) => d.message.id).sort()).toEqual([
          'order-4',
          'order-5',
          'order-6',
        ]);
      },
    );

    kit.test('a handler is told its group and attempt', async (scope) => {
      const { channel } = await billing(scope);
      const recorder = createRecorder<Order>();

      await channel.publish(order(1));
      channel.subscribe(recorder.handler, { group: 'billing' });
      await scope.eventually(() => expect(recorder.runs).toHaveLength(1));

      expect(recorder.runs[0]?.group).toBe('billing');
      expect(recorder.runs[0]?.attempt).toBe(1);
    });

    kit.test(
      'a subscription runs at most its concurrency of handlers at once',
      async (scope) => {
        const { channel } = await billing(scope);
        const release = createGate();
        scope.defer(() => release.open());
        let running = 0;
        let most = 0;
        const recorder = createRecorder<Order>(async () => {
          running += 1;
          most = Math.max(most, running);
          await release.opened;
          running -= 1;
        });

        await publishOrders(channel, [1, 2, 3, 4, 5]);
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
          concurrency: 3,
        });
        await scope.eventually(() => expect(running).toBe(3));
        await sleep(scope.timeouts.quietMs);
        const heldBack = recorder.runs.length;
        release.open();
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(5),
        );

        expect(heldBack).toBe(3);
        expect(most).toBe(3);
      },
    );

    kit.test(
      'a subscription counts what it delivered and what succeeded',
      async (scope) => {
        const { channel } = await billing(scope);

        for (const i of [1, 2, 3]) await channel.publish(order(i));
        const subscription = channel.subscribe(() => {}, { group: 'billing' });
        // A delivery counts as succeeded when its handler returns, and
        // stays in flight until its acknowledgement is through.
        await scope.eventually(() => {
          expect(subscription.stats.succeeded).toBe(3);
          expect(subscription.stats.inFlight).toBe(0);
        });

        expect(subscription.group).toBe('billing');
        expect(subscription.stats.delivered).toBe(3);
        expect(subscription.stats.failed).toBe(0);
      },
    );
  });

  describe('broadcast', () => {
    if (!kit.supports('broadcast')) {
      kit.test(
        'asking for a broadcast subscription throws CapabilityError',
        async (scope) => {
          const client = await scope.client();
          const channel = client.channel<Order>(uniqueName('orders'));

          const error = await expectError(
            () => channel.subscribe(() => {}, { broadcast: true }),
            CapabilityError,
          );

          expect(error.feature).toBe('broadcast');
        },
      );

      kit.test(
        'asking for a broadcast pull consumer throws CapabilityError',
        async (scope) => {
          const client = await scope.client();
          const channel = client.channel<Order>(uniqueName('orders'));

          const error = await expectError(
            () => channel.consumer({ broadcast: true }),
            CapabilityError,
          );

          expect(error.feature).toBe('broadcast');
        },
      );
      return;
    }

    kit.test('a broadcast reaches every live instance', async (scope) => {
      const name = uniqueName('news');
      const [producer, first, second] = [
        await scope.client(),
        await scope.client(),
        await scope.client(),
      ];
      const channel = producer.channel<Order>(name);
      const a = createRecorder<Order>();
      const b = createRecorder<Order>();
      const real = (runs: typeof a.runs) =>
        runs.map((r) => r.message.id).filter((id) => id.startsWith('news-'));

      first.channel<Order>(name).subscribe(a.handler, { broadcast: true });
      second.channel<Order>(name).subscribe(b.handler, { broadcast: true });
      await scope.eventually(
        async () => {
          await channel.publish(order(0));
          return a.runs.length > 0 && b.runs.length > 0;
        },
        { intervalMs: 200, message: 'both instances receiving' },
      );
      await publishOrders(channel, [1, 2, 3], 'news');
      await scope.eventually(() => {
        expect(real(a.runs)).toHaveLength(3);
        expect(real(b.runs)).toHaveLength(3);
      });

      expect(real(a.runs).sort()).toEqual(['news-1', 'news-2', 'news-3']);
      expect(real(b.runs).sort()).toEqual(['news-1', 'news-2', 'news-3']);
      expect(a.runs[0]?.group).not.toBe(b.runs[0]?.group);
    });

    kit.test(
      'an instance started later sees only messages published after it started',
      async (scope) => {
        const name = uniqueName('news');
        const [producer, early, late] = [
          await scope.client(),
          await scope.client(),
          await scope.client(),
        ];
        const channel = producer.channel<Order>(name);

        const first = await early
          .channel<Order>(name)
          .consumer({ broadcast: true });
        await channel.publish(order(1), { id: 'news-1' });
        const second = await late
          .channel<Order>(name)
          .consumer({ broadcast: true });
        await channel.publish(order(2), { id: 'news-2' });
        const seenEarly = await scope.fetchUntil(first, 2, { ack: true });
        const seenLate = await scope.fetchUntil(second, 1, { ack: true });
        await scope.expectNothing(second);

        expect(seenEarly.map((d) => d.message.id).sort()).toEqual([
          'news-1',
          'news-2',
        ]);
        expect(seenLate.map((d) => d.message.id)).toEqual(['news-2']);
      },
    );

    kit.test(
      'a broadcast consumer is listed while open and removed when closed',
      async (scope) => {
        const name = uniqueName('news');
        const client = await scope.client();
        const channel = client.channel<Order>(name);
        await channel.publish(order(0));

        const consumer = await channel.consumer({ broadcast: true });
        const listed = await client.admin.consumers(name);
        await consumer.close();
        const after = await client.admin.consumers(name);

        expect(listed.filter((c) => c.mode === 'broadcast')).toHaveLength(1);
        expect(after.filter((c) => c.mode === 'broadcast')).toHaveLength(0);
      },
    );
  });
}
