import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  ConfigurationError,
} from '../../../../src/core/errors.ts';
import { silentLogger } from '../../../../src/core/logger.ts';
import {
  createMemoryProvider,
  createProvider,
  resetMemoryNamespace,
} from '../../../../src/providers/memory/index.ts';
import {
  channelsOf,
  groupSpec,
  namespaceFixture,
  text,
  wireMessage,
} from './fixtures.ts';

const context = { logger: silentLogger, instanceId: 'test-instance' };

describe('memory provider options', () => {
  it('declares every feature supported with the default limits', async () => {
    const provider = await createMemoryProvider({ namespace: 'defaults' });

    expect(provider.name).toBe('memory');
    expect(provider.capabilities).toEqual({
      maxPayloadBytes: 1_048_576,
      maxBatchSize: 1000,
      dedupWindowMs: 120_000,
      native: { deadLetter: true, watch: true, requestReply: true },
      unsupported: {},
    });
    await provider.close();
  });

  it('takes its limits from the options record of the configuration', async () => {
    const provider = await createProvider(
      { maxPayloadBytes: 10, dedupWindowMs: 0 },
      context,
    );

    expect(provider.capabilities.maxPayloadBytes).toBe(10);
    expect(provider.capabilities.dedupWindowMs).toBe(0);
    await provider.close();
  });

  it.each([
    ['namespace', ''],
    ['namespace', 42],
    ['maxPayloadBytes', 0],
    ['maxPayloadBytes', 1.5],
    ['maxPayloadBytes', '1024'],
    ['dedupWindowMs', -1],
    ['dedupWindowMs', Number.NaN],
    ['dataDir', '/tmp'],
  ])(
    'refuses %s set to %j with an error naming the field',
    async (field, value) => {
      const attempt = createProvider({ [field]: value }, context);

      await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
      await expect(attempt).rejects.toMatchObject({ field, value });
    },
  );
});

describe('memory provider namespaces', () => {
  const fixture = namespaceFixture();
  afterEach(() => fixture.cleanup());

  it('shares channels between providers of one namespace', async () => {
    const a = channelsOf(await fixture.provider());
    const b = channelsOf(await fixture.provider());
    await a.ensure({ name: 'orders', ordered: false, groups: ['billing'] });

    await a.publish('orders', [wireMessage('orders', 'one')]);
    const consumer = await b.consume(groupSpec('orders', 'billing'));
    const deliveries = await consumer.fetch(10, { waitMs: 1000 });

    expect(await b.exists('orders')).toBe(true);
    expect(deliveries.map((d) => text(d.message))).toEqual(['one']);
  });

  it('keeps namespaces apart', async () => {
    const inside = channelsOf(await fixture.provider());
    const other = await createMemoryProvider({
      namespace: `${fixture.namespace}-other`,
    });
    await inside.ensure({ name: 'orders', ordered: false, groups: [] });

    const seen = await channelsOf(other).exists('orders');

    expect(seen).toBe(false);
    await other.close();
  });

  it('splits one worker group between consumers of two providers', async () => {
    const a = channelsOf(await fixture.provider());
    const b = channelsOf(await fixture.provider());
    await a.ensure({ name: 'orders', ordered: false, groups: ['billing'] });
    const first = await a.consume(groupSpec('orders', 'billing', 5000));
    const second = await b.consume(groupSpec('orders', 'billing', 5000));

    await a.publish('orders', [
      wireMessage('orders', 'one'),
      wireMessage('orders', 'two'),
    ]);
    const fromFirst = await first.fetch(1, { waitMs: 1000 });
    const fromSecond = await second.fetch(10, { waitMs: 1000 });

    const bodies = [...fromFirst, ...fromSecond].map((d) => text(d.message));
    expect(bodies.sort()).toEqual(['one', 'two']);
    expect(fromFirst).toHaveLength(1);
  });

  it('closing one provider leaves the state to the others', async () => {
    const a = await fixture.provider();
    const b = channelsOf(await fixture.provider());
    await channelsOf(a).ensure({
      name: 'orders',
      ordered: false,
      groups: ['g'],
    });
    await channelsOf(a).publish('orders', [wireMessage('orders', 'one')]);

    await a.close();

    expect(await b.stats('orders')).toMatchObject({ depth: 1 });
    await expect(channelsOf(a).list()).rejects.toBeInstanceOf(ClosedError);
  });

  it('resetting a namespace empties it for the providers still open', async () => {
    const provider = await fixture.provider();
    await channelsOf(provider).ensure({
      name: 'orders',
      ordered: false,
      groups: [],
    });
    const kv = await provider.kv!.open('config', { create: true });
    await kv.put('a', new Uint8Array([1]));

    resetMemoryNamespace(fixture.namespace);

    expect(await channelsOf(provider).list()).toEqual([]);
    expect(await provider.kv!.list()).toEqual([]);
  });
});
