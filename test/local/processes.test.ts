import { afterEach, describe, expect, test } from 'vitest';
import type { RawKvEvent } from '../../src/core/provider.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { Fixture, wireMessages } from './fixtures.ts';

const fixture = new Fixture();
afterEach(() => fixture.release());

describe('several processes sharing a data folder', () => {
  test('form one worker group that handles each message exactly once', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    const channels = provider.channels!;
    await channels.ensure({
      name: 'jobs',
      ordered: false,
      groups: ['workers'],
    });
    const workers = await Promise.all(
      [1, 2, 3].map(() =>
        fixture.child('work', dataDir, 'jobs', 'workers', '5'),
      ),
    );

    const messages = wireMessages('jobs', 300);
    for (let i = 0; i < messages.length; i += 50) {
      await channels.publish('jobs', messages.slice(i, i + 50));
    }
    const handled = () =>
      workers.flatMap((worker) =>
        worker.events.flatMap((e) => (e.handled ? [e.handled as string] : [])),
      );
    await eventually(() => handled().length >= messages.length, {
      timeoutMs: 15_000,
    });

    const ids = handled();
    expect(ids).toHaveLength(messages.length);
    expect(new Set(ids)).toEqual(new Set(messages.map((m) => m.id)));
    const busy = workers.filter((w) => w.events.some((e) => e.handled));
    expect(busy.length).toBeGreaterThan(1);
    expect((await channels.stats('jobs')).consumers.workers).toEqual({
      lag: 0,
      inFlight: 0,
    });
  });

  test('racing for the same idempotency records acquire each one exactly once', async () => {
    const dataDir = await fixture.dataDir();
    // No process has opened the folder yet: they also race to create it.
    const racers = await Promise.all(
      ['a', 'b', 'c'].map((owner) =>
        fixture.child('begin', dataDir, 'records', '200', owner),
      ),
    );

    const reports = await Promise.all(racers.map((r) => r.next('acquired')));

    const acquired = reports.flatMap((r) => r.acquired as string[]);
    expect(acquired).toHaveLength(200);
    expect(new Set(acquired).size).toBe(200);
  });

  test('drop a message one of them publishes again within the dedup window', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    const channels = provider.channels!;
    await channels.ensure({ name: 'orders', ordered: false, groups: ['g'] });
    await channels.publish('orders', wireMessages('orders', 3));

    const other = await fixture.child('publish', dataDir, 'orders', '2', '3');
    const report = await other.next('duplicates');
    const again = await channels.publish(
      'orders',
      wireMessages('orders', 2, 3),
    );

    expect(report.duplicates).toEqual(['m2']);
    expect(again.map((outcome) => outcome.ok && outcome.duplicate)).toEqual([
      true,
      true,
    ]);
    expect((await channels.stats('orders')).depth).toBe(5);
  });

  test('see each other’s key-value writes through a watch, in write order', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    const store = await provider.kv!.open('state', { create: true });
    await store.put('k.0', new TextEncoder().encode('before'));
    const stop = new AbortController();
    const events: RawKvEvent[] = [];
    const watching = (async () => {
      const watch = store.watch({ prefix: 'k.', signal: stop.signal });
      for await (const event of watch) events.push(event);
    })();
    await eventually(() => events.length > 0);

    await fixture.child('kv-write', dataDir, 'state', '50');
    await eventually(() => events.length >= 52, { timeoutMs: 10_000 });
    stop.abort();
    await watching;

    expect(events[0]).toMatchObject({ type: 'snapshot' });
    const changes = events
      .slice(1)
      .map((event) =>
        event.type === 'put' ? `put ${event.entry.key}` : `${event.type}`,
      );
    expect(changes).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `put k.${i}`),
      'delete',
    ]);
  });

  test('remove the broadcast consumer of an instance that is gone', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir, {
      broadcastInactiveMs: 1000,
    });
    const channels = provider.channels!;
    await channels.ensure({ name: 'news', ordered: false, groups: [] });
    const listener = await fixture.child(
      'broadcast',
      dataDir,
      'news',
      'inst-a',
    );
    const names = async () =>
      (await channels.consumers('news')).map((consumer) => consumer.name);
    expect(await names()).toEqual(['inst-a']);

    await listener.kill();

    await eventually(async () => expect(await names()).toEqual([]), {
      timeoutMs: 10_000,
    });
  });

  test('keep the broadcast consumer of a live instance past the inactive threshold', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir, {
      broadcastInactiveMs: 1000,
    });
    const channels = provider.channels!;
    await channels.ensure({ name: 'news', ordered: false, groups: [] });
    await fixture.child('broadcast', dataDir, 'news', 'inst-b');
    const since = Date.now();

    // Heartbeats renew it: wait until it has outlived two thresholds.
    await eventually(
      async () => {
        const [consumer] = await channels.consumers('news');
        expect(consumer?.name).toBe('inst-b');
        return consumer!.lastActiveAt! > since + 2000;
      },
      { timeoutMs: 10_000 },
    );

    expect((await channels.consumers('news')).map((c) => c.name)).toEqual([
      'inst-b',
    ]);
  });
});
