/**
 * Conformance of delivery guarantees and ordering: when a subscription
 * acknowledges, what survives a consumer that dies, and that an
 * exactly-once handler runs once per message id whatever the transport
 * delivers twice.
 */
import { describe, expect } from 'vitest';
import type { Handler, SubscribeOptions } from '../core/channel.ts';
import { CapabilityError, ValidationError } from '../core/errors.ts';
import { billing, type Order, order, publishOrders } from './data.ts';
import { loseAcks } from './faults.ts';
import {
  createGate,
  createRecorder,
  expectDrained,
  expectError,
  sleep,
  times,
  uniqueName,
} from './helpers.ts';
import type { Kit } from './kit.ts';

const FAST_BACKOFF = { initialDelayMs: 10, maxDelayMs: 50 } as const;

/** One step of an ordered sequence of work under one key. */
interface Step {
  key: string;
  index: number;
}

/** A handler that counts its runs per message id. */
function countingHandler(): {
  counts: Map<string, number>;
  handler: Handler<Order>;
} {
  const counts = new Map<string, number>();
  return {
    counts,
    handler: async (message) => {
      counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
      await sleep(50);
      return { charged: message.data.amount };
    },
  };
}

/** Registers the cases of guarantees and of ordering. */
export function guaranteeCases(kit: Kit): void {
  describe('guarantees', () => {
    kit.test(
      'at-most-once acknowledges before the handler, so a throwing handler is not retried',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const leaseMs = scope.timeouts.leaseMs;
        const recorder = createRecorder<Order>(() => {
          throw new Error('handler failed');
        });

        await channel.publish(order(1));
        channel.subscribe(recorder.handler, {
          group: 'billing',
          guarantee: 'at-most-once',
          leaseMs,
          backoff: FAST_BACKOFF,
        });
        await scope.eventually(() => expect(recorder.runs).toHaveLength(1));
        await sleep(2 * leaseMs + scope.timeouts.quietMs);

        expect(recorder.runs).toHaveLength(1);
        await scope.eventually(() => expectDrained(client, name, 'billing'));
      },
    );

    kit.test(
      'at-least-once delivers a failed message again until the handler succeeds',
      async (scope) => {
        const { channel } = await billing(scope);
        const recorder = createRecorder<Order>((_, context) => {
          if (context.attempt === 1) throw new Error('transient');
        });

        const receipt = await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
          guarantee: 'at-least-once',
          backoff: FAST_BACKOFF,
        });
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(1),
        );

        expect(recorder.runs.map((r) => [r.message.id, r.attempt])).toEqual([
          [receipt.id, 1],
          [receipt.id, 2],
        ]);
        expect(subscription.stats.failed).toBe(1);
      },
    );

    kit.test(
      'deliveries a consumer took but did not acknowledge before it died are all delivered again',
      async (scope) => {
        const name = uniqueName('orders');
        const leaseMs = scope.timeouts.leaseMs;
        const crashed = await scope.client();
        const channel = crashed.channel<Order>(name, { groups: ['billing'] });

        await publishOrders(channel, [1, 2, 3, 4]);
        const first = await channel.consumer({ group: 'billing', leaseMs });
        const taken = await scope.fetchUntil(first, 4);
        taken.sort((a, b) => a.message.sequence - b.message.sequence);
        for (const delivery of taken.slice(0, 2)) await delivery.ack();
        await crashed.close();
        const survivor = await scope.client();
        const second = await survivor
          .channel<Order>(name)
          .consumer({ group: 'billing', leaseMs });
        const again = await scope.fetchUntil(second, 2, { ack: true });

        expect(again.map((d) => d.message.id).sort()).toEqual([
          'order-3',
          'order-4',
        ]);
        expect(again.map((d) => d.attempt)).toEqual([2, 2]);
      },
    );

    kit.test(
      'an exactly-once handler runs once for a message re-published with the same id',
      async (scope) => {
        const { client, channel, name } = await billing(scope);
        const { counts, handler } = countingHandler();

        await channel.publish(order(1), { id: 'order-1' });
        await channel.publish(order(1), { id: 'order-1' });
        const subscription = channel.subscribe(handler, {
          group: 'billing',
          guarantee: 'exactly-once',
        });
        await scope.eventually(() => expectDrained(client, name, 'billing'));
        await sleep(scope.timeouts.quietMs);

        expect(counts.get('order-1')).toBe(1);
        if (scope.capabilities.dedupWindowMs === 0) {
          expect(subscription.stats.duplicates).toBe(1);
        }
      },
    );

    kit.test(
      'an exactly-once handler that completed but whose ack was lost does not run again on redelivery',
      async (scope) => {
        const name = uniqueName('orders');
        const producer = await scope.client();
        const lossy = await scope.client({
          wrap: (provider) => loseAcks(provider, 1),
        });
        const healthy = await scope.client();
        const channel = producer.channel<Order>(name, { groups: ['billing'] });
        const { counts, handler } = countingHandler();
        const options: SubscribeOptions = {
          group: 'billing',
          guarantee: 'exactly-once',
          leaseMs: scope.timeouts.leaseMs,
        };

        await channel.publish(order(1), { id: 'order-1' });
        const first = lossy.channel<Order>(name).subscribe(handler, options);
        await scope.eventually(() => expect(first.stats.succeeded).toBe(1));
        await lossy.close();
        const second = healthy.channel<Order>(name).subscribe(handler, options);
        await scope.eventually(() =>
          expect(first.stats.duplicates + second.stats.duplicates).toBe(1),
        );
        await scope.eventually(() => expectDrained(healthy, name, 'billing'));

        expect(counts.get('order-1')).toBe(1);
      },
    );

    kit.test(
      'two exactly-once consumers racing on duplicates run each message once',
      async (scope) => {
        const name = uniqueName('orders');
        const [first, second] = [await scope.client(), await scope.client()];
        const channel = first.channel<Order>(name, { groups: ['billing'] });
        const { counts, handler } = countingHandler();
        const ids = times(6, (i) => `order-${i}`);
        const options: SubscribeOptions = {
          group: 'billing',
          guarantee: 'exactly-once',
          concurrency: 2,
          leaseMs: 4 * scope.timeouts.leaseMs,
        };

        const batch = ids.map((id, i) => ({ id, data: order(i) }));
        await channel.publishBatch(batch);
        await channel.publishBatch(batch);
        const a = channel.subscribe(handler, options);
        const b = second.channel<Order>(name).subscribe(handler, options);
        await scope.eventually(() => expectDrained(first, name, 'billing'));
        await sleep(scope.timeouts.quietMs);

        expect(ids.map((id) => counts.get(id))).toEqual(ids.map(() => 1));
        if (scope.capabilities.dedupWindowMs === 0) {
          expect(a.stats.duplicates + b.stats.duplicates).toBe(ids.length);
        }
      },
    );

    kit.test(
      'an exactly-once handler aborted at shutdown runs again on another consumer',
      async (scope) => {
        const name = uniqueName('orders');
        const [stopping, taking] = [await scope.client(), await scope.client()];
        const channel = stopping.channel<Order>(name, { groups: ['billing'] });
        const started = createGate();
        const options: SubscribeOptions = {
          group: 'billing',
          guarantee: 'exactly-once',
          leaseMs: scope.timeouts.leaseMs,
        };
        const aborted = createRecorder<Order>(
          (_, context) =>
            new Promise((_resolve, reject) => {
              started.open();
              context.signal.addEventListener('abort', () =>
                reject(context.signal.reason),
              );
            }),
        );
        const finishing = createRecorder<Order>();

        await channel.publish(order(1), { id: 'order-1' });
        const first = channel.subscribe(aborted.handler, options);
        await started.opened;
        await first.close({ timeoutMs: 100 });
        const second = taking
          .channel<Order>(name)
          .subscribe(finishing.handler, options);
        await scope.eventually(() => expect(second.stats.succeeded).toBe(1));

        expect(finishing.ids()).toEqual(['order-1']);
        expect(finishing.runs[0]?.attempt).toBeGreaterThanOrEqual(2);
        expect(second.stats.duplicates).toBe(0);
      },
    );

    kit.test(
      'exactly-once records are kept per group, so each group handles a message once',
      async (scope) => {
        const { client, channel, name } = await billing(scope, [
          'audit',
          'billing',
        ]);
        const audited = countingHandler();
        const billed = countingHandler();

        await channel.publish(order(1), { id: 'order-1' });
        channel.subscribe(audited.handler, {
          group: 'audit',
          guarantee: 'exactly-once',
        });
        channel.subscribe(billed.handler, {
          group: 'billing',
          guarantee: 'exactly-once',
        });
        await scope.eventually(async () => {
          await expectDrained(client, name, 'audit');
          await expectDrained(client, name, 'billing');
        });

        expect(audited.counts.get('order-1')).toBe(1);
        expect(billed.counts.get('order-1')).toBe(1);
      },
    );

    kit.test(
      'an exactly-once handler that fails runs again on retry and completes once',
      async (scope) => {
        const { channel } = await billing(scope);
        const recorder = createRecorder<Order>((_, context) => {
          if (context.attempt === 1) throw new Error('transient');
          return { ok: true };
        });

        await channel.publish(order(1));
        const subscription = channel.subscribe(recorder.handler, {
          group: 'billing',
          guarantee: 'exactly-once',
          backoff: FAST_BACKOFF,
        });
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(1),
        );
        await sleep(scope.timeouts.quietMs);

        expect(recorder.runs.map((r) => r.attempt)).toEqual([1, 2]);
        expect(subscription.stats.duplicates).toBe(0);
      },
    );
  });

  describe('ordering', () => {
    if (!kit.supports('ordering')) {
      kit.test(
        'asking for an ordered channel throws CapabilityError',
        async (scope) => {
          const client = await scope.client();

          const error = await expectError(
            () =>
              client
                .channel<Step>(uniqueName('steps'), { ordered: true })
                .publish({ key: 'a', index: 0 }, { orderingKey: 'a' }),
            CapabilityError,
          );

          expect(error.feature).toBe('ordering');
        },
      );
      return;
    }

    kit.test(
      'messages of one ordering key are handled one at a time and in order, across a retry',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Step>(uniqueName('steps'), {
          ordered: true,
          groups: ['billing'],
        });
        const keys = ['k0', 'k1', 'k2'];
        const seen = new Map(keys.map((key) => [key, [] as number[]]));
        const busy = new Set<string>();
        let overlapped = false;
        const handler: Handler<Step> = async ({ data }, context) => {
          if (busy.has(data.key)) overlapped = true;
          busy.add(data.key);
          seen.get(data.key)?.push(data.index);
          await sleep((data.index * 7 + data.key.length * 3) % 15);
          busy.delete(data.key);
          if (data.key === 'k1' && data.index === 3 && context.attempt === 1) {
            throw new Error('transient');
          }
        };

        for (let index = 0; index < 8; index += 1) {
          for (const key of keys) {
            await channel.publish({ key, index }, { orderingKey: key });
          }
        }
        const subscription = channel.subscribe(handler, {
          group: 'billing',
          concurrency: 4,
          backoff: FAST_BACKOFF,
        });
        await scope.eventually(() =>
          expect(subscription.stats.succeeded).toBe(24),
        );

        const inOrder = [0, 1, 2, 3, 4, 5, 6, 7];
        expect(seen.get('k0')).toEqual(inOrder);
        expect(seen.get('k1')).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7]);
        expect(seen.get('k2')).toEqual(inOrder);
        expect(overlapped).toBe(false);
      },
    );

    kit.test(
      'a publish without an ordering key on an ordered channel is refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Step>(uniqueName('steps'), {
          ordered: true,
        });

        const error = await expectError(
          () => channel.publish({ key: 'a', index: 0 }),
          ValidationError,
        );

        expect(error.field).toBe('orderingKey');
      },
    );
  });
}
