import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSwitchyard } from '../../src/core/client.ts';
import {
  ConfigurationError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import type { ChannelTransport, Provider } from '../../src/core/provider.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { OutboxFixture } from './outbox-fixtures.ts';

type Order = { n: number };

const files = new OutboxFixture();
const clients: Switchyard[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await files.release();
});

/**
 * A memory provider whose channel publishes fail with a
 * TransportUnavailableError while `down` is set, as an unreachable
 * broker's would.
 */
async function flakyProvider(namespace = randomUUID()) {
  const memory = await createMemoryProvider({ namespace });
  const state = { down: false };
  const inner = memory.channels!;
  const channels = new Proxy(inner, {
    get(target, property) {
      if (property === 'publish') {
        const publish: ChannelTransport['publish'] = (channel, messages) =>
          state.down
            ? Promise.reject(new TransportUnavailableError('broker is down'))
            : target.publish(channel, messages);
        return publish;
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const provider: Provider = {
    name: memory.name,
    capabilities: memory.capabilities,
    channels,
    ...(memory.kv !== undefined && { kv: memory.kv }),
    ...(memory.idempotency !== undefined && {
      idempotency: memory.idempotency,
    }),
    close: () => memory.close(),
  };
  return { provider, state, namespace };
}

async function client(provider: Provider): Promise<Switchyard> {
  const made = createSwitchyard({
    provider,
    outbox: {
      path: await files.path(),
      pollIntervalMs: 20,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    },
  });
  clients.push(made);
  return made;
}

/**
 * A client with an outbox on a flaky memory provider, and its channel
 * `orders`, with the group `billing`, confirmed by the outbox.
 */
async function outboxOrders() {
  const flaky = await flakyProvider();
  const sy = await client(flaky.provider);
  const orders = sy.channel<Order>('orders', {
    groups: ['billing'],
    confirm: 'outbox',
  });
  return { ...flaky, sy, orders };
}

type OutboxOrders = Awaited<ReturnType<typeof outboxOrders>>;

/**
 * Publishes `{ n: 0 }` on `orders` and waits until the outbox relayed
 * it, so that the channel and its group exist, then takes the
 * transport down.
 */
async function relayOneThenGoDown({
  sy,
  orders,
  state,
}: Pick<OutboxOrders, 'sy' | 'orders' | 'state'>): Promise<void> {
  await orders.publish({ n: 0 });
  await sy.outbox.drained({ timeoutMs: 5_000 });
  state.down = true;
}

function receive(sy: Switchyard, channel: string, group: string) {
  const received: Message<Order>[] = [];
  const subscription = sy
    .channel<Order>(channel)
    .subscribe((m) => void received.push(m), { group, waitMs: 20 });
  return { received, subscription };
}

describe("a channel with confirm 'outbox'", () => {
  it('resolves with a receipt confirmed by the outbox, and the message arrives', async () => {
    const { sy, orders } = await outboxOrders();

    const receipt = await orders.publish({ n: 1 }, { id: 'order-1' });
    const { received } = receive(sy, 'orders', 'billing');

    expect(receipt).toEqual({
      id: 'order-1',
      sequence: 1,
      duplicate: false,
      confirmedBy: 'outbox',
    });
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ id: 'order-1', data: { n: 1 } });
  });

  it('keeps the default: a receipt confirmed by the transport', async () => {
    const { provider } = await flakyProvider();
    const sy = await client(provider);

    const receipt = await sy.channel<Order>('orders').publish({ n: 1 });

    expect(receipt.confirmedBy).toBe('transport');
    expect(receipt.channelSequence).toBe(1);
  });

  it('publishes a batch into the outbox, every entry confirmed by it', async () => {
    const { sy, orders } = await outboxOrders();

    const results = await orders.publishBatch(
      Array.from({ length: 5 }, (_, n) => ({ data: { n } })),
    );
    const { received } = receive(sy, 'orders', 'billing');

    expect(results.every((r) => r.ok && r.confirmedBy === 'outbox')).toBe(true);
    await eventually(() => received.length === 5);
  });

  it('goes on publishing while the transport is down, and relays once it is back', async () => {
    const { sy, orders, state } = await outboxOrders();
    await relayOneThenGoDown({ sy, orders, state });

    for (let n = 1; n <= 10; n++) {
      await orders.publish({ n }, { orderingKey: 'customer-1' });
    }
    await eventually(() => sy.outbox.stats().retried > 0);
    const whileDown = sy.outbox.stats();
    const adminWhileDown = await sy.admin.stats('orders');
    state.down = false;
    const drained = await sy.outbox.drained({ timeoutMs: 10_000 });
    const { received } = receive(sy, 'orders', 'billing');

    expect(whileDown).toMatchObject({
      depth: 10,
      channels: { orders: { depth: 10, failed: 0 } },
      lastError: { channel: 'orders', code: 'TRANSPORT_UNAVAILABLE' },
    });
    expect(adminWhileDown.outbox).toEqual({
      depth: 10,
      oldestAgeMs: expect.any(Number),
      failed: 0,
    });
    expect(drained).toBe(true);
    await eventually(() => received.length === 11);
    expect(received.map((m) => m.data.n)).toEqual(
      Array.from({ length: 11 }, (_, n) => n),
    );
    expect(sy.outbox.stats().depth).toBe(0);
  });

  it('is relayed by close(), before the providers close', async () => {
    const { sy, orders, namespace } = await outboxOrders();
    await orders.publish({ n: 1 }, { id: 'order-1' });

    await sy.close();
    const after = createSwitchyard({
      provider: await createMemoryProvider({ namespace }),
    });
    clients.push(after);
    const { received } = receive(after, 'orders', 'billing');

    await eventually(() => received.length === 1);
    expect(received[0]!.id).toBe('order-1');
  });

  it('relays what waits to the transport the client switched to', async () => {
    const { sy, orders, state } = await outboxOrders();
    await relayOneThenGoDown({ sy, orders, state });
    await orders.publish({ n: 1 }, { id: 'waiting' });
    await eventually(() => sy.outbox.stats().retried > 0);
    const namespace = randomUUID();

    await sy.switchTo(await createMemoryProvider({ namespace }), {
      drainCheckMs: 10,
    });
    const drained = await sy.outbox.drained({ timeoutMs: 5_000 });
    const reader = createSwitchyard({
      provider: await createMemoryProvider({ namespace }),
    });
    clients.push(reader);
    const { received } = receive(reader, 'orders', 'billing');

    expect(drained).toBe(true);
    await eventually(() => received.length === 1);
    expect(received[0]!.id).toBe('waiting');
  });

  it('is refused when confirm is neither transport nor outbox', async () => {
    const { provider } = await flakyProvider();
    const sy = await client(provider);

    expect(() =>
      sy.channel('orders', { confirm: 'broker' as 'outbox' }),
    ).toThrow(/channel\.confirm must be 'transport' or 'outbox', got "broker"/);
  });
});

describe('the outbox of a client', () => {
  it('shows zeros and adds nothing to admin stats while there is no outbox file', async () => {
    const { provider } = await flakyProvider();
    const sy = await client(provider);
    await sy.channel('orders').publish({ n: 1 });

    const stats = sy.outbox.stats();
    const admin = await sy.admin.stats('orders');

    expect(stats).toMatchObject({ depth: 0, oldestAgeMs: 0, failed: 0 });
    expect(admin.outbox).toBeUndefined();
    expect(await sy.outbox.drained({ timeoutMs: 0 })).toBe(true);
  });

  it('refuses bad settings when the client is made, naming the field', async () => {
    const { provider } = await flakyProvider();

    expect(() =>
      createSwitchyard({ provider, outbox: { batchSize: 0 } }),
    ).toThrow(/outbox\.batchSize/);
    expect(() =>
      createSwitchyard({
        provider,
        outbox: { path: 'x.db', flush: true } as never,
      }),
    ).toThrow(ConfigurationError);
  });
});
