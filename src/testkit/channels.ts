/**
 * Conformance of publishing: what a message carries, codecs, schemas,
 * limits, name validation, dedup, and which messages a group receives.
 */
import { describe, expect } from 'vitest';
import { ValidationError } from '../core/errors.ts';
import type { BatchEntry } from '../core/message.ts';
import {
  billing,
  type Order,
  order,
  publishAndFetch,
  publishOrders,
  traceContext,
} from './data.ts';
import { createRecorder, sameBytes, times, uniqueName } from './helpers.ts';
import type { Kit } from './kit.ts';

/** Registers the cases of publishing and of message contents. */
export function channelCases(kit: Kit): void {
  describe('channels', () => {
    kit.test(
      'a published message reaches a group with its data and attempt 1',
      async (scope) => {
        const { channel } = await billing(scope);

        const { delivery } = await publishAndFetch(scope, channel);

        expect(delivery?.message.data).toEqual(order(1));
        expect(delivery?.message.channel).toBe(channel.name);
        expect(delivery?.attempt).toBe(1);
      },
    );

    kit.test(
      'publishBatch returns one result per entry, in order',
      async (scope) => {
        const { channel } = await billing(scope);
        const entries = times(3, (i) => ({ data: order(i), id: `order-${i}` }));

        const results = await channel.publishBatch(entries);
        const consumer = await channel.consumer({ group: 'billing' });
        const deliveries = await scope.fetchUntil(consumer, 3);

        expect(results.map((r) => [r.ok, r.id])).toEqual([
          [true, 'order-0'],
          [true, 'order-1'],
          [true, 'order-2'],
        ]);
        expect(results.map((r) => r.ok && r.sequence)).toEqual([1, 2, 3]);
        expect(deliveries.map((d) => d.message.id).sort()).toEqual([
          'order-0',
          'order-1',
          'order-2',
        ]);
      },
    );

    kit.test(
      'publishBatch fails a bad entry alone and publishes the others',
      async (scope) => {
        const { channel } = await billing(scope);
        const entries: BatchEntry<Order>[] = [
          { data: order(0), id: 'good-0' },
          { data: order(1), id: 'bad-1', attributes: { 'Not-Valid': 'x' } },
          { data: order(2), id: 'good-2' },
        ];

        const results = await channel.publishBatch(entries);
        const consumer = await channel.consumer({ group: 'billing' });
        const deliveries = await scope.fetchUntil(consumer, 2);
        await scope.expectNothing(consumer);

        expect(results.map((r) => r.ok)).toEqual([true, false, true]);
        const failed = results[1];
        expect(failed?.ok === false && failed.error).toBeInstanceOf(
          ValidationError,
        );
        expect(deliveries.map((d) => d.message.id).sort()).toEqual([
          'good-0',
          'good-2',
        ]);
      },
    );

    kit.test(
      'publishBatch publishes every entry of a batch larger than the transport takes at once',
      async (scope) => {
        const { channel } = await billing(scope);
        const count = Math.min(scope.capabilities.maxBatchSize + 1, 1001);

        const results = await channel.publishBatch(
          times(count, (i) => ({ data: order(i) })),
        );
        const consumer = await channel.consumer({ group: 'billing' });
        await scope.fetchUntil(consumer, count, { ack: true });

        expect(results.every((r) => r.ok)).toBe(true);
      },
    );

    kit.test(
      'an ordering key round-trips on a channel that is not ordered',
      async (scope) => {
        const { channel } = await billing(scope);

        await channel.publish(order(1), { orderingKey: 'customer-7' });
        const consumer = await channel.consumer({ group: 'billing' });
        const [delivery] = await scope.fetchUntil(consumer, 1);

        expect(delivery?.message.orderingKey).toBe('customer-7');
      },
    );

    kit.test('attributes and trace context round-trip', async (scope) => {
      const { channel } = await billing(scope);
      const attributes = { tenant: 'acme', region: 'eu1' };

      await channel.publish(order(1), { attributes, ...traceContext() });
      const consumer = await channel.consumer({ group: 'billing' });
      const [delivery] = await scope.fetchUntil(consumer, 1);

      expect(delivery?.message.attributes).toEqual(attributes);
      expect(delivery?.message.traceparent).toBe(traceContext().traceparent);
      expect(delivery?.message.tracestate).toBe(traceContext().tracestate);
    });

    kit.test(
      'a message carries its id, per-publisher sequence, publishedAt and publisherId',
      async (scope) => {
        const { channel } = await billing(scope);
        const before = Date.now();

        const receipts = [];
        for (const i of [1, 2, 3]) {
          receipts.push(await channel.publish(order(i)));
        }
        const consumer = await channel.consumer({ group: 'billing' });
        const messages = (await scope.fetchUntil(consumer, 3))
          .map((d) => d.message)
          .sort((a, b) => a.sequence - b.sequence);

        expect(receipts.map((r) => r.sequence)).toEqual([1, 2, 3]);
        expect(messages.map((m) => m.id)).toEqual(receipts.map((r) => r.id));
        expect(messages.map((m) => m.sequence)).toEqual([1, 2, 3]);
        expect(new Set(receipts.map((r) => r.id)).size).toBe(3);
        expect(new Set(messages.map((m) => m.publisherId)).size).toBe(1);
        expect(messages[0]?.publisherId).not.toBe('');
        for (const message of messages) {
          expect(message.publishedAt).toBeInstanceOf(Date);
          expect(message.publishedAt.getTime()).toBeGreaterThan(
            before - 60_000,
          );
          expect(message.contentType).not.toBe('');
        }
      },
    );

    kit.test('the json codec round-trips nested values', async (scope) => {
      const client = await scope.client();
      const channel = client.channel<unknown>(uniqueName('values'), {
        codec: 'json',
        groups: ['reader'],
      });
      const value = {
        text: 'naïve ✓',
        n: -1.5,
        none: null,
        list: [1, [2], { x: true }],
      };

      await channel.publish(value);
      const consumer = await channel.consumer({ group: 'reader' });
      const [delivery] = await scope.fetchUntil(consumer, 1);

      expect(delivery?.message.data).toEqual(value);
    });

    kit.test(
      'the msgpack codec round-trips nested values and bytes',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<unknown>(uniqueName('values'), {
          codec: 'msgpack',
          groups: ['reader'],
        });
        const blob = new Uint8Array([0, 1, 254, 255]);
        const value = { text: 'naïve ✓', n: 42, list: ['a', null], blob };

        await channel.publish(value);
        const consumer = await channel.consumer({ group: 'reader' });
        const [delivery] = await scope.fetchUntil(consumer, 1);

        const data = delivery?.message.data as typeof value;
        expect({ ...data, blob: undefined }).toEqual({
          ...value,
          blob: undefined,
        });
        expect(sameBytes(data.blob, blob)).toBe(true);
      },
    );

    kit.test('the raw codec round-trips bytes unchanged', async (scope) => {
      const client = await scope.client();
      const channel = client.channel<Uint8Array>(uniqueName('bytes'), {
        codec: 'raw',
        groups: ['reader'],
      });
      const bytes = new Uint8Array([0, 10, 13, 128, 255, 0]);

      await channel.publish(bytes);
      const consumer = await channel.consumer({ group: 'reader' });
      const [delivery] = await scope.fetchUntil(consumer, 1);

      expect(sameBytes(delivery!.message.data, bytes)).toBe(true);
    });

    if (kit.capabilities.dedupWindowMs > 0) {
      kit.test(
        'a re-publish of an id within the dedup window is dropped as a duplicate',
        async (scope) => {
          const { channel } = await billing(scope);

          const first = await channel.publish(order(1), { id: 'order-1' });
          const again = await channel.publish(order(1), { id: 'order-1' });
          const consumer = await channel.consumer({ group: 'billing' });
          await scope.fetchUntil(consumer, 1, { ack: true });
          await scope.expectNothing(consumer);

          expect(first.duplicate).toBe(false);
          expect(again.duplicate).toBe(true);
        },
      );
    } else {
      kit.test(
        'without a dedup window a re-published id is delivered again',
        async (scope) => {
          const { channel } = await billing(scope);

          await channel.publish(order(1), { id: 'order-1' });
          const again = await channel.publish(order(1), { id: 'order-1' });
          const consumer = await channel.consumer({ group: 'billing' });
          const deliveries = await scope.fetchUntil(consumer, 2);

          expect(again.duplicate).toBe(false);
          expect(deliveries.map((d) => d.message.id)).toEqual([
            'order-1',
            'order-1',
          ]);
        },
      );
    }

    kit.test(
      'a group receives only messages published after it was created',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'));

        await channel.publish(order(1), { id: 'before' });
        const consumer = await channel.consumer({ group: 'late' });
        await channel.publish(order(2), { id: 'after' });
        const deliveries = await scope.fetchUntil(consumer, 1, { ack: true });
        await scope.expectNothing(consumer);

        expect(deliveries.map((d) => d.message.id)).toEqual(['after']);
      },
    );

    kit.test(
      'declared groups receive messages published before their first subscriber',
      async (scope) => {
        const { channel } = await billing(scope, ['audit', 'billing']);
        const recorder = createRecorder<Order>();

        await publishOrders(channel, [1, 2, 3]);
        channel.subscribe(recorder.handler, { group: 'audit' });
        const billingConsumer = await channel.consumer({ group: 'billing' });
        const pulled = await scope.fetchUntil(billingConsumer, 3);
        await scope.eventually(() => expect(recorder.runs).toHaveLength(3));

        const expected = ['order-1', 'order-2', 'order-3'];
        expect(recorder.ids().sort()).toEqual(expected);
        expect(pulled.map((d) => d.message.id).sort()).toEqual(expected);
      },
    );
  });
}
