import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { TransportDelivery } from '../../src/core/provider.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { CREW, Fixture, wireMessages } from './fixtures.ts';

const fixture = new Fixture();
afterEach(() => fixture.release());

async function bytesOf(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('a process killed with SIGKILL', () => {
  test('as a producer loses none of the messages it had confirmed', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    const channels = provider.channels!;
    await channels.ensure({
      name: 'events',
      ordered: false,
      groups: ['audit'],
    });
    const producer = await fixture.child('produce', dataDir, 'events', '8');
    const confirmed = () =>
      producer.events.flatMap((e) =>
        e.confirmed ? [e.confirmed as string] : [],
      );
    await eventually(() => confirmed().length >= 500, { timeoutMs: 15_000 });

    await producer.kill();

    const consumer = await channels.consume({
      channel: 'events',
      mode: 'group',
      name: 'audit',
      leaseMs: 30_000,
      maxAttempts: 5,
    });
    const stored = new Set<string>();
    for (;;) {
      const batch = await consumer.fetch(1000, { waitMs: 0 });
      if (batch.length === 0) break;
      for (const delivery of batch) stored.add(delivery.message.id);
    }
    const lost = confirmed().filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
  });

  test('as a consumer has its unacknowledged messages redelivered to another after the lease', async () => {
    const { dataDir, channels } = await fixture.tasks(20);
    const holder = await fixture.child(
      'hold',
      dataDir,
      'tasks',
      'crew',
      '500',
      '10',
    );
    const report = await holder.next('taken');
    const taken = report.taken as string[];
    const acked = report.acked as string[];
    expect(taken).toHaveLength(10);

    await holder.kill();

    const consumer = await channels.consume(CREW);
    const received = new Map<string, TransportDelivery>();
    await eventually(
      async () => {
        for (const d of await consumer.fetch(100, { waitMs: 100 })) {
          received.set(d.message.id, d);
        }
        return received.size >= 20 - acked.length;
      },
      { timeoutMs: 10_000 },
    );
    const unacked = taken.filter((id) => !acked.includes(id));
    const expected = wireMessages('tasks', 20)
      .map((m) => m.id)
      .filter((id) => !acked.includes(id));
    expect([...received.keys()].sort()).toEqual(expected.sort());
    for (const id of unacked) expect(received.get(id)!.attempt).toBe(2);
  });

  test('while writing an object leaves the previous content whole', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    const store = await provider.objects!.open('reports', { create: true });
    const previous = await store.put(
      'daily/summary.json',
      new TextEncoder().encode('{"total":42}'),
      { contentType: 'application/json' },
    );
    const writer = await fixture.child(
      'write-object',
      dataDir,
      'reports',
      'daily/summary.json',
    );
    await writer.next('writing');

    await writer.kill();

    const object = await store.get('daily/summary.json');
    expect(object?.info).toEqual(previous);
    expect((await bytesOf(object!.body)).toString()).toBe('{"total":42}');
    const files = await readdir(join(dataDir, 'objects', 'reports'));
    expect(files.some((name) => name.startsWith('.tmp-'))).toBe(true);
  });
});
