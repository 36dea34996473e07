import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/message.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { onBroadcast, onChannel } from '../../src/functions/triggers.ts';
import type { Producer } from '../../src/functions/types.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { fastBackoff, Harness } from './fixtures.ts';

type Order = { n: number };

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(() => harness.release());

/** A producer that publishes orders 1 to `count` on `orders`. */
function orders(count: number): Producer {
  return {
    name: 'shop',
    async run(context) {
      const channel = context.switchyard.channel<Order>('orders');
      for (let n = 1; n <= count; n++) {
        await channel.publish({ n }, { id: `order-${n}` });
      }
    },
  };
}

describe('a channel trigger', () => {
  it('runs the handler once per message of its group and counts it', async () => {
    const seen: number[] = [];
    const billing = defineFunction({
      name: 'billing',
      trigger: onChannel('orders', { group: 'billing' }),
      handler: (message: Message<Order>) => {
        seen.push(message.data.n);
      },
    });
    const pipeline = definePipeline({
      name: 'shop',
      channels: { orders: {} },
      functions: [billing],
      producers: [orders(20)],
    });

    const { running } = await harness.run(pipeline);
    await running.idle();

    expect(seen.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const stats = running.stats();
    expect(stats.published).toBe(20);
    expect(stats.producers.shop).toEqual({ published: 20, state: 'done' });
    expect(stats.functions.billing).toMatchObject({
      trigger: 'channel',
      delivered: 20,
      succeeded: 20,
      runs: 20,
      failed: 0,
      inFlight: 0,
    });
  });

  it('creates every group of the channel before the first publish', async () => {
    const seen: number[] = [];
    const audit = defineFunction({
      name: 'audit',
      trigger: onChannel('orders', { group: 'audit' }),
      handler: (message: Message<Order>) => {
        seen.push(message.data.n);
      },
    });
    const pipeline = definePipeline({
      name: 'shop',
      channels: { orders: {} },
      functions: [audit],
      producers: [orders(5)],
    });
    const client = await harness.client();

    const first = await harness.run(pipeline, {
      switchyard: client,
      functions: [],
    });
    await first.running.idle();
    await first.running.stop();
    const second = await harness.run(pipeline, {
      switchyard: client,
      producers: false,
    });
    await second.running.idle();

    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });

  it('retries a failing message, then dead-letters it with the error while the others go on', async () => {
    const fragile = defineFunction({
      name: 'fragile',
      trigger: onChannel('orders', { group: 'fragile' }),
      maxAttempts: 3,
      backoff: fastBackoff,
      handler: (message: Message<Order>) => {
        if (message.data.n % 5 === 0) {
          throw new RangeError(`order ${message.data.n} is cursed`);
        }
      },
    });
    const pipeline = definePipeline({
      name: 'shop',
      channels: { orders: {} },
      functions: [fragile],
      producers: [orders(10)],
    });

    const { running, client } = await harness.run(pipeline);
    await running.idle();

    const stats = running.stats().functions.fragile!;
    expect(stats.succeeded).toBe(8);
    expect(stats.deadLettered).toBe(2);
    expect(stats.failed).toBe(6);
    expect(stats.retried).toBe(4);
    const letters = await client.admin.deadLetters('orders');
    expect(letters.map((l) => l.message.id).sort()).toEqual([
      'order-10',
      'order-5',
    ]);
    expect(letters[0]!.reason).toContain('RangeError');
    expect(letters[0]!.reason).toContain('is cursed');
    expect(letters[0]!.group).toBe('fragile');
    expect(harness.logger.at('error').length).toBeGreaterThanOrEqual(2);
  });

  it('counts what a function publishes through its context', async () => {
    const relay = defineFunction({
      name: 'relay',
      trigger: onChannel('orders', { group: 'relay' }),
      handler: async (message: Message<Order>, context) => {
        await context.switchyard
          .channel('receipts')
          .publish({ n: message.data.n }, { id: `receipt-${message.data.n}` });
      },
    });
    const archive: number[] = [];
    const archiver = defineFunction({
      name: 'archiver',
      trigger: onChannel('receipts', { group: 'archive' }),
      handler: (message: Message<Order>) => {
        archive.push(message.data.n);
      },
    });
    const pipeline = definePipeline({
      name: 'shop',
      channels: { orders: {}, receipts: {} },
      functions: [relay, archiver],
      producers: [orders(6)],
    });

    const { running } = await harness.run(pipeline);
    await running.idle();

    const stats = running.stats();
    expect(stats.functions.relay!.published).toBe(6);
    expect(stats.producers.shop!.published).toBe(6);
    expect(stats.published).toBe(12);
    expect(archive).toHaveLength(6);
  });

  it('counts duplicates that an exactly-once function skips', async () => {
    let runs = 0;
    const once = defineFunction({
      name: 'once',
      trigger: onChannel('orders', { group: 'once' }),
      guarantee: 'exactly-once',
      handler: () => {
        runs++;
      },
    });
    const pipeline = definePipeline({
      name: 'shop',
      channels: { orders: {} },
      functions: [once],
    });
    const client = await harness.client({ dedupWindowMs: 0 });
    const { running } = await harness.run(pipeline, { switchyard: client });
    const channel = client.channel<Order>('orders');

    await channel.publish({ n: 1 }, { id: 'same' });
    await running.idle();
    await channel.publish({ n: 1 }, { id: 'same' });
    await running.idle();

    expect(runs).toBe(1);
    expect(running.stats().functions.once).toMatchObject({
      delivered: 2,
      runs: 1,
      duplicates: 1,
    });
  });
});

describe('a broadcast trigger', () => {
  it('delivers every message to every running instance', async () => {
    const seen: string[] = [];
    const listener = defineFunction({
      name: 'listener',
      trigger: onBroadcast('config'),
      handler: (message: Message<string>, context) => {
        seen.push(`${context.switchyard.instanceId}:${message.data}`);
      },
    });
    const pipeline = definePipeline({
      name: 'cfg',
      channels: { config: {} },
      functions: [listener],
    });
    const a = await harness.run(pipeline);
    const b = await harness.run(pipeline);

    await eventually(async () => {
      const { consumers } = await a.client.admin
        .consumers('config')
        .then((list) => ({
          consumers: list.filter((c) => c.mode === 'broadcast'),
        }));
      return consumers.length === 2;
    });
    await a.client.channel<string>('config').publish('v2');
    await a.running.idle();
    await b.running.idle();

    expect(seen.sort()).toEqual(
      [`${a.client.instanceId}:v2`, `${b.client.instanceId}:v2`].sort(),
    );
    expect(a.running.stats().functions.listener!.trigger).toBe('broadcast');
  });
});
