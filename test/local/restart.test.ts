import { afterEach, describe, expect, test } from 'vitest';
import { Fixture, wireMessages } from './fixtures.ts';

const fixture = new Fixture();
afterEach(() => fixture.release());

const bytes = (text: string) => new TextEncoder().encode(text);

describe('closing and reopening a data folder', () => {
  test('keeps channels, groups and where each group stands', async () => {
    const dataDir = await fixture.dataDir();
    const first = await fixture.provider(dataDir);
    await first.channels!.ensure({
      name: 'orders',
      ordered: false,
      groups: ['billing', 'shipping'],
    });
    await first.channels!.publish('orders', wireMessages('orders', 6));
    const billing = await first.channels!.consume({
      channel: 'orders',
      mode: 'group',
      name: 'billing',
      leaseMs: 30_000,
      maxAttempts: 5,
    });
    const taken = await billing.fetch(4, { waitMs: 0 });
    await Promise.all(taken.slice(0, 2).map((d) => d.ack()));
    await first.close();

    const second = await fixture.provider(dataDir);
    const channels = second.channels!;
    const reopened = await channels.consume({
      channel: 'orders',
      mode: 'group',
      name: 'billing',
      leaseMs: 30_000,
      maxAttempts: 5,
    });
    const rest = await reopened.fetch(10, { waitMs: 0 });

    expect(await channels.list()).toEqual(['orders']);
    expect((await channels.consumers('orders')).map((c) => c.name)).toEqual([
      'billing',
      'shipping',
    ]);
    expect(rest.map((d) => d.message.id).sort()).toEqual([
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect((await channels.stats('orders')).consumers.shipping?.lag).toBe(6);
  });

  test('keeps the ids of the dedup window', async () => {
    const dataDir = await fixture.dataDir();
    const first = await fixture.provider(dataDir);
    await first.channels!.ensure({
      name: 'orders',
      ordered: false,
      groups: [],
    });
    await first.channels!.publish('orders', wireMessages('orders', 2));
    await first.close();

    const second = await fixture.provider(dataDir);
    const outcomes = await second.channels!.publish(
      'orders',
      wireMessages('orders', 3),
    );

    expect(outcomes.map((outcome) => outcome.ok && outcome.duplicate)).toEqual([
      true,
      true,
      false,
    ]);
  });

  test('keeps key-value entries, and revisions keep increasing', async () => {
    const dataDir = await fixture.dataDir();
    const first = await fixture.provider(dataDir);
    const before = await first.kv!.open('settings', { create: true });
    const revision = await before.put('mode', bytes('fast'));
    await first.close();

    const second = await fixture.provider(dataDir);
    const after = await second.kv!.open('settings', { create: false });
    const entry = await after.get('mode');
    const next = await after.update('mode', bytes('safe'), revision);

    expect(entry?.revision).toBe(revision);
    expect(new TextDecoder().decode(entry?.value)).toBe('fast');
    expect(Number(next)).toBeGreaterThan(Number(revision));
  });

  test('keeps objects and idempotency records', async () => {
    const dataDir = await fixture.dataDir();
    const first = await fixture.provider(dataDir);
    const store = await first.objects!.open('blobs', { create: true });
    const info = await store.put('a/b.txt', bytes('hello'), {});
    const records = await first.idempotency!.open('records');
    await records.begin('g#m1', { owner: 'w1', leaseMs: 1000, ttlMs: 60_000 });
    await records.complete('g#m1', { owner: 'w1', data: '7', ttlMs: 60_000 });
    await first.close();

    const second = await fixture.provider(dataDir);
    const reopened = await second.objects!.open('blobs', { create: false });
    const again = await second.idempotency!.open('records');

    expect(await reopened.head('a/b.txt')).toEqual(info);
    expect(
      await again.begin('g#m1', { owner: 'w2', leaseMs: 1000, ttlMs: 60_000 }),
    ).toEqual({ status: 'completed', data: '7' });
  });
});
