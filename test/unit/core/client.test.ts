import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Capabilities } from '../../../src/core/capabilities.ts';
import { createSwitchyard } from '../../../src/core/client.ts';
import {
  CapabilityError,
  ClosedError,
  ConfigurationError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../../src/core/errors.ts';
import type { WireMessage } from '../../../src/core/message.ts';
import type { ChannelTransport, Provider } from '../../../src/core/provider.ts';
import { memoryProvider } from '../delivery/helpers.ts';

function withCapabilities(
  provider: Provider,
  patch: Partial<Capabilities>,
): Provider {
  return {
    ...provider,
    capabilities: { ...provider.capabilities, ...patch },
  };
}

describe('channel()', () => {
  it('refuses an invalid channel name at once', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });

    expect(() => client.channel('Orders!')).toThrow(ValidationError);
    await client.close();
  });

  it('refuses an ordered channel on a provider without ordering', async () => {
    const provider = withCapabilities(await memoryProvider(), {
      unsupported: { ordering: 'queues are unordered' },
    });
    const client = createSwitchyard({ provider });

    const open = () => client.channel('orders', { ordered: true });

    expect(open).toThrow(CapabilityError);
    expect(open).toThrow(/queues are unordered/);
    await client.close();
  });

  it('with create: false fails on first use when the channel is missing', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });
    const channel = client.channel('orders', { create: false });

    const publishing = channel.publish({ id: 1 });

    await expect(publishing).rejects.toBeInstanceOf(NotFoundError);
    await client.close();
  });

  it('ensures the channel once, with its groups', async () => {
    const provider = await memoryProvider();
    const specs: unknown[] = [];
    const channels = provider.channels!;
    const counting: ChannelTransport = Object.create(channels);
    counting.ensure = async (spec) => {
      specs.push(spec);
      return channels.ensure(spec);
    };
    const client = createSwitchyard({
      provider: { ...provider, channels: counting },
    });
    const channel = client.channel('orders', { groups: ['billing'] });

    await channel.publish(1);
    await channel.publish(2);

    expect(specs).toEqual([
      { name: 'orders', ordered: false, groups: ['billing'] },
    ]);
    await client.close();
  });
});

describe('publish', () => {
  it('numbers messages per client and channel from 1', async () => {
    const provider = await memoryProvider();
    const a = createSwitchyard({ provider });
    const b = createSwitchyard({ provider });

    const first = await a.channel('orders').publish(1);
    const second = await a.channel('orders').publish(2);
    const other = await a.channel('refunds').publish(3);
    const fromB = await b.channel('orders').publish(4);

    expect([first.sequence, second.sequence]).toEqual([1, 2]);
    expect(other.sequence).toBe(1);
    expect(fromB.sequence).toBe(1);
    await a.close();
  });

  it('gives a random UUID as the default id and keeps a given one', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });
    const channel = client.channel('orders');

    const generated = await channel.publish(1);
    const given = await channel.publish(2, { id: 'order-2' });

    expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(given.id).toBe('order-2');
    await client.close();
  });

  it('refuses a bad id, attribute or traceparent', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });
    const channel = client.channel('orders');

    await expect(channel.publish(1, { id: 'a b' })).rejects.toThrow(
      /message id/,
    );
    await expect(
      channel.publish(1, { attributes: { channel: 'x' } }),
    ).rejects.toThrow(/reserved/);
    await expect(channel.publish(1, { traceparent: 'abc' })).rejects.toThrow(
      /traceparent/,
    );
    await client.close();
  });

  it('refuses data that fails the schema, naming the field', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });
    const schema = z.object({
      blocks: z.array(z.object({ hash: z.string() })),
    });
    const channel = client.channel('blocks', { schema });

    const error = await channel
      .publish({ blocks: [{ hash: 1 }] } as never)
      .catch((e) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^data\.blocks\.0\.hash: .*expected string/);
    await client.close();
  });

  it('refuses a payload over the limit, naming both sizes', async () => {
    const provider = await memoryProvider({ maxPayloadBytes: 64 });
    const client = createSwitchyard({ provider });

    const error = await client
      .channel('orders')
      .publish('x'.repeat(100))
      .catch((e) => e);

    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toContain('102 bytes');
    expect(error.message).toContain('64 bytes');
    await client.close();
  });

  it('requires an ordering key on an ordered channel', async () => {
    const client = createSwitchyard({ provider: await memoryProvider() });
    const channel = client.channel('orders', { ordered: true });

    await expect(channel.publish(1)).rejects.toThrow(/orderingKey/);
    await expect(
      channel.publish(1, { orderingKey: 'customer-1' }),
    ).resolves.toMatchObject({ sequence: 1 });
    await client.close();
  });
});

describe('publishBatch', () => {
  it('splits by maxBatchSize and reports each entry in order', async () => {
    const provider = withCapabilities(await memoryProvider(), {
      maxBatchSize: 2,
    });
    const calls: number[] = [];
    const channels = provider.channels!;
    const recording: ChannelTransport = Object.create(channels);
    recording.publish = async (
      name: string,
      messages: readonly WireMessage[],
    ) => {
      calls.push(messages.length);
      return channels.publish(name, messages);
    };
    const client = createSwitchyard({
      provider: { ...provider, channels: recording },
    });

    const results = await client
      .channel('orders')
      .publishBatch([
        { data: 1 },
        { data: 2 },
        { data: 3, id: 'not valid!' },
        { data: 4 },
        { data: 5 },
        { data: 6 },
      ]);

    expect(calls).toEqual([2, 2, 1]);
    expect(results.map((r) => r.ok)).toEqual([
      true,
      true,
      false,
      true,
      true,
      true,
    ]);
    expect(results[2]).toMatchObject({ ok: false, id: 'not valid!' });
    expect(results.filter((r) => r.ok).map((r) => r.ok && r.sequence)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    await client.close();
  });
});

describe('parts', () => {
  it('refuses a part the chosen provider does not offer, naming both', async () => {
    const provider = await memoryProvider();
    const { kv: _kv, ...withoutKv } = provider;
    const client = createSwitchyard({
      provider,
      parts: { kv: { ...withoutKv, name: 'queues-only' } as Provider },
    });

    const open = () => client.kv('router-index');

    expect(open).toThrow(ConfigurationError);
    expect(open).toThrow(/provider 'queues-only' does not offer kv/);
    await client.close();
  });

  it('reports the provider and capabilities of each part', async () => {
    const main = await memoryProvider();
    const other = withCapabilities(
      { ...(await memoryProvider()), name: 'other' },
      { maxPayloadBytes: 10 },
    );
    const client = createSwitchyard({ provider: main, parts: { kv: other } });

    expect(client.providerName('channels')).toBe('memory');
    expect(client.providerName('kv')).toBe('other');
    expect(client.capabilities('kv').maxPayloadBytes).toBe(10);
    await client.close();
  });

  it('refuses options without a provider', () => {
    expect(() => createSwitchyard({} as never)).toThrow(ConfigurationError);
  });
});

describe('close()', () => {
  it('closes each distinct provider once, then refuses every call', async () => {
    const provider = await memoryProvider();
    let closes = 0;
    const counted: Provider = {
      ...provider,
      close: async () => {
        closes++;
        await provider.close();
      },
    };
    const client = createSwitchyard({
      provider: counted,
      parts: { kv: counted, objects: counted },
    });
    client.channel('orders').subscribe(() => {}, { group: 'billing' });

    await client.close();
    await client.close();

    expect(closes).toBe(1);
    expect(() => client.channel('orders')).toThrow(ClosedError);
  });
});
