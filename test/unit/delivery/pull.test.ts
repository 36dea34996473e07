import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonCodec } from '../../../src/core/codecs.ts';
import { ClosedError } from '../../../src/core/errors.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { createDecoder } from '../../../src/delivery/decode.ts';
import { openPullConsumer } from '../../../src/delivery/pull.ts';
import {
  fakeDelivery,
  fullCapabilities,
  jsonMessage,
  scriptedConsumer,
} from './fakes.ts';
import { memoryClient, recordingLogger } from './helpers.ts';

type Snapshot = { version: number };

let client: Switchyard;

afterEach(async () => {
  await client?.close();
});

function snapshots() {
  return client.channel<Snapshot>('snapshots', { groups: ['loader'] });
}

describe('a pull consumer', () => {
  it('returns decoded deliveries that the caller acknowledges', async () => {
    ({ client } = await memoryClient());
    await snapshots().publish({ version: 1 });
    await snapshots().publish({ version: 2 });
    const consumer = await snapshots().consumer({ group: 'loader' });

    const deliveries = await consumer.fetch(10, { waitMs: 100 });
    await Promise.all(deliveries.map((d) => d.ack()));
    const stats = await client.admin.stats('snapshots');

    expect(deliveries.map((d) => d.message.data.version)).toEqual([1, 2]);
    expect(deliveries[0]?.attempt).toBe(1);
    expect(stats.consumers.loader?.lag).toBe(0);
  });

  it('dead-letters deliveries that fail the schema and does not return them', async () => {
    ({ client } = await memoryClient());
    await snapshots().publish({ version: -1 });
    await snapshots().publish({ version: 3 });
    const schema = z.object({ version: z.number().min(0) });
    const consumer = await client
      .channel('snapshots', { schema })
      .consumer({ group: 'loader' });

    const deliveries = await consumer.fetch(10, { waitMs: 100 });
    const [dead] = await client.admin.deadLetters('snapshots');

    expect(deliveries.map((d) => d.message.data.version)).toEqual([3]);
    expect(dead?.reason).toContain('data.version');
  });

  it('dead-letters a delivery whose lease expired past maxAttempts', async () => {
    ({ client } = await memoryClient());
    await snapshots().publish({ version: 4 });
    const consumer = await snapshots().consumer({
      group: 'loader',
      leaseMs: 30,
      maxAttempts: 1,
    });
    const [first] = await consumer.fetch(1, { waitMs: 100 });

    const again = await consumer.fetch(1, { waitMs: 2_000 });
    const [dead] = await client.admin.deadLetters('snapshots');

    expect(first?.attempt).toBe(1);
    expect(again).toEqual([]);
    expect(dead?.reason).toContain('over the limit of 1 attempts');
  });

  it('maps retry, deadLetter and extendLease onto the transport', async () => {
    const retried = fakeDelivery(jsonMessage({ version: 1 }));
    const dead = fakeDelivery(jsonMessage({ version: 2 }));
    const extended = fakeDelivery(jsonMessage({ version: 3 }));
    const consumer = await openPullConsumer<Snapshot>({
      channel: 'fake-events',
      options: { group: 'loader', leaseMs: 45_000 },
      capabilities: fullCapabilities(),
      decode: createDecoder(jsonCodec as never),
      logger: recordingLogger(),
      open: async () => scriptedConsumer([[retried, dead, extended]]),
    });

    const [a, b, c] = await consumer.fetch(3);
    await a?.retry({ delayMs: 250 });
    await b?.deadLetter('stale snapshot');
    await c?.extendLease();
    await c?.retry();

    expect(retried.settlements).toEqual([{ kind: 'nak', delayMs: 250 }]);
    expect(dead.settlements).toEqual([
      { kind: 'deadLetter', reason: 'stale snapshot' },
    ]);
    expect(extended.settlements).toEqual([
      { kind: 'extend', leaseMs: 45_000 },
      { kind: 'nak', delayMs: 0 },
    ]);
  });

  it('refuses to fetch once closed', async () => {
    ({ client } = await memoryClient());
    const consumer = await snapshots().consumer({ group: 'loader' });

    await consumer.close();

    await expect(consumer.fetch(1)).rejects.toBeInstanceOf(ClosedError);
  });
});
