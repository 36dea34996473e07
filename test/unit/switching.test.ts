import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/config/index.ts';
import type { Feature } from '../../src/core/capabilities.ts';
import {
  CapabilityError,
  ConfigurationError,
  ConflictError,
} from '../../src/core/errors.ts';
import type { Provider } from '../../src/core/provider.ts';
import { createSwitchyard, type Switchyard } from '../../src/index.ts';
import {
  createMemoryProvider,
  resetMemoryNamespace,
} from '../../src/providers/memory/index.ts';

const namespaces: string[] = [];
const clients: Switchyard[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  for (const namespace of namespaces.splice(0)) resetMemoryNamespace(namespace);
});

async function memory(): Promise<Provider> {
  const namespace = `switching-${randomUUID()}`;
  namespaces.push(namespace);
  return createMemoryProvider({ namespace });
}

function client(provider: Provider): Switchyard {
  const created = createSwitchyard({ provider });
  clients.push(created);
  return created;
}

/** `provider` declaring `features` unsupported. */
function lacking(provider: Provider, features: readonly Feature[]): Provider {
  return {
    ...provider,
    name: provider.name,
    capabilities: {
      ...provider.capabilities,
      unsupported: Object.fromEntries(features.map((f) => [f, 'not here'])),
    },
    close: () => provider.close(),
  };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not reached within 5 s');
}

describe('switchTo', () => {
  it('drains what the old transport holds for a group before taking from the new one', async () => {
    const sy = client(await memory());
    const next = await memory();
    const jobs = sy.channel<number>('jobs', { groups: ['workers'] });
    for (let n = 0; n < 20; n++) await jobs.publish(n);
    const seen: number[] = [];
    const subscription = jobs.subscribe(
      async (message) => {
        seen.push(message.data);
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
      { group: 'workers' },
    );

    const switching = sy.switchTo(next, { drainCheckMs: 20 });
    for (let n = 20; n < 40; n++) await jobs.publish(n);
    const report = await switching;
    await until(() => seen.length >= 40);
    await subscription.close();

    expect(report).toMatchObject({
      from: 'memory',
      to: 'memory',
      drained: true,
      consumers: 1,
      left: {},
    });
    expect(seen).toEqual([...Array(40).keys()]);
    expect(sy.providerName('channels')).toBe('memory');
    const { consumers } = await next.channels!.stats('jobs');
    expect(consumers.workers).toEqual({ lag: 0, inFlight: 0 });
  });

  it('creates every known group on the new transport before the flip, so a group consumed elsewhere keeps its messages', async () => {
    const old = await memory();
    const next = await memory();
    const sy = client(old);
    const jobs = sy.channel<number>('jobs', { groups: ['here'] });
    await old.channels!.ensure({
      name: 'jobs',
      ordered: false,
      groups: ['elsewhere'],
    });
    await jobs.publish(1);

    await sy.switchTo(next, { drainCheckMs: 10, drainTimeoutMs: 100 });
    await jobs.publish(2);

    const { consumers } = await next.channels!.stats('jobs');
    expect(consumers.elsewhere?.lag).toBe(1);
    expect(consumers.here?.lag).toBe(1);
  });

  it('moves a pull consumer: it returns what is left on the old transport, then what arrives on the new', async () => {
    const sy = client(await memory());
    const jobs = sy.channel<string>('jobs', { groups: ['pullers'] });
    await jobs.publish('before');
    const consumer = await jobs.consumer({ group: 'pullers' });

    const switching = sy.switchTo(await memory(), { drainCheckMs: 10 });
    await until(async () => {
      const names = await sy.admin.consumers('jobs').catch(() => []);
      return names.some((c) => c.name === 'pullers');
    });
    await jobs.publish('after');
    const taken: string[] = [];
    while (taken.length < 2) {
      for (const delivery of await consumer.fetch(10, { waitMs: 50 })) {
        taken.push(delivery.message.data);
        await delivery.ack();
      }
    }
    const report = await switching;

    expect(taken).toEqual(['before', 'after']);
    expect(report.drained).toBe(true);
  });

  it('keeps a broadcast consumer receiving across the switch', async () => {
    const sy = client(await memory());
    const news = sy.channel<string>('news');
    const heard: string[] = [];
    const subscription = news.subscribe((m) => void heard.push(m.data), {
      broadcast: true,
    });
    await until(
      async () => (await sy.admin.consumers('news').catch(() => [])).length > 0,
    );
    await news.publish('one');

    await sy.switchTo(await memory(), { drainCheckMs: 10 });
    await news.publish('two');
    await until(() => heard.length >= 2);
    await subscription.close();

    expect(heard).toEqual(['one', 'two']);
  });

  it('reports what is left when a consumer cannot drain by the deadline, and leaves it stored on the old transport', async () => {
    const old = await memory();
    const sy = client(old);
    const jobs = sy.channel<number>('jobs', { groups: ['idle'] });
    await jobs.publish(1);
    await jobs.publish(2);
    const consumer = await jobs.consumer({ group: 'idle' });

    const report = await sy.switchTo(await memory(), {
      drainTimeoutMs: 50,
      drainCheckMs: 10,
    });
    await consumer.close();

    expect(report.drained).toBe(false);
    expect(report.left).toEqual({ 'jobs/idle': 2 });
    const { consumers } = await old.channels!.stats('jobs');
    expect(consumers.idle?.lag).toBe(2);
  });

  it('refuses a target without ordering while an ordered channel is in use, changing nothing', async () => {
    const old = await memory();
    const sy = client(old);
    const orders = sy.channel<number>('orders', { ordered: true });
    await orders.publish(1, { orderingKey: 'a' });
    const target = lacking(await memory(), ['ordering']);

    const refused = sy.switchTo(target);

    await expect(refused).rejects.toThrow(CapabilityError);
    await expect(refused).rejects.toThrow(/channel 'orders' is ordered/);
    await orders.publish(2, { orderingKey: 'a' });
    expect((await old.channels!.stats('orders')).depth).toBe(2);
  });

  it('refuses a target without delayed retries when the running consumers have them', async () => {
    const sy = client(await memory());

    await expect(
      sy.switchTo(lacking(await memory(), ['delayedRetry'])),
    ).rejects.toThrow(/does not support delayedRetry/);
  });

  it('refuses a second switch while one is under way', async () => {
    const sy = client(await memory());
    const jobs = sy.channel<number>('jobs', { groups: ['idle'] });
    await jobs.publish(1);
    const consumer = await jobs.consumer({ group: 'idle' });
    const first = sy.switchTo(await memory(), {
      drainTimeoutMs: 200,
      drainCheckMs: 10,
    });

    await expect(sy.switchTo(await memory())).rejects.toThrow(ConflictError);
    await first;
    await consumer.close();
  });

  it('changes nothing when the new transport fails while it is prepared', async () => {
    const old = await memory();
    const sy = client(old);
    const jobs = sy.channel<number>('jobs', { groups: ['workers'] });
    await jobs.publish(1);
    const broken = await memory();
    const failing: Provider = {
      ...broken,
      name: 'broken',
      capabilities: broken.capabilities,
      channels: {
        ...broken.channels!,
        ensure: () => Promise.reject(new Error('the new transport is down')),
      },
      close: () => broken.close(),
    };

    await expect(sy.switchTo(failing)).rejects.toThrow(
      'the new transport is down',
    );
    await jobs.publish(2);

    expect(sy.providerName('channels')).toBe('memory');
    expect((await old.channels!.stats('jobs')).depth).toBe(2);
  });

  it('refuses a provider named by configuration on a client built without connect()', async () => {
    const sy = client(await memory());

    await expect(sy.switchTo({ provider: 'local' })).rejects.toThrow(
      ConfigurationError,
    );
  });

  it('switching back to the configured provider reuses the instance that still serves the other parts', async () => {
    const first = `switching-${randomUUID()}`;
    const second = `switching-${randomUUID()}`;
    namespaces.push(first, second);
    const sy = await connect({
      config: {
        provider: 'memory',
        providers: { memory: { namespace: first } },
      },
      env: {},
    });
    clients.push(sy);
    const state = sy.kv<number>('state');
    await state.put('k', 1);

    await sy.switchTo({ provider: 'memory', options: { namespace: second } });
    await sy.channel('jobs').publish(1);
    await sy.switchTo({ provider: 'memory' });

    expect((await state.get('k'))?.value).toBe(1);
    await sy.channel('jobs').publish(2);
    expect(await sy.admin.list()).toContain('jobs');
  });
});
