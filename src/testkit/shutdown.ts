/**
 * Conformance of shutdown: closing lets work in flight finish within its
 * deadline, aborts what runs past it without acknowledging it, and a
 * closed client refuses further work.
 */
import { describe, expect } from 'vitest';
import type { Channel, Handler } from '../core/channel.ts';
import { ClosedError } from '../core/errors.ts';
import type { PublishReceipt } from '../core/message.ts';
import { billing, type Order, order } from './data.ts';
import {
  createGate,
  createRecorder,
  expectDrained,
  expectError,
  type Gate,
  uniqueName,
} from './helpers.ts';
import type { Kit } from './kit.ts';

/**
 * Publishes one order, subscribes `handler` to it in the group billing
 * and, once `started` opens, closes the subscription with a deadline of
 * 100 ms; resolves with the receipt of the order.
 */
async function closeOnceStarted(
  channel: Channel<Order>,
  handler: Handler<Order>,
  started: Gate,
  leaseMs: number,
): Promise<PublishReceipt> {
  const receipt = await channel.publish(order(1));
  const subscription = channel.subscribe(handler, {
    group: 'billing',
    leaseMs,
  });

  await started.opened;
  await subscription.close({ timeoutMs: 100 });
  return receipt;
}

/** Registers the cases of shutdown. */
export function shutdownCases(kit: Kit): void {
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

        const receipt = await closeOnceStarted(
          channel,
          recorder.handler,
          started,
          leaseMs,
        );
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

        const receipt = await closeOnceStarted(
          channel,
          recorder.handler,
          started,
          leaseMs,
        );
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
