import { afterEach, describe, expect, it } from 'vitest';
import { createSwitchyard } from '../../../src/core/client.ts';
import {
  CapabilityError,
  NoRespondersError,
  NotFoundError,
  RemoteError,
  ValidationError,
} from '../../../src/core/errors.ts';
import type { Provider } from '../../../src/core/provider.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { memoryProvider } from '../delivery/helpers.ts';

let clients: Switchyard[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

function connect(provider: Provider): Switchyard {
  const client = createSwitchyard({ provider });
  clients.push(client);
  return client;
}

describe('request/reply', () => {
  it('answers a request with the handler result', async () => {
    const client = connect(await memoryProvider());
    await client.serve<{ a: number }, number>('math.double', (r) => r.a * 2);

    const reply = await client.request('math.double', { a: 21 });

    expect(reply).toBe(42);
  });

  it('turns a throwing handler into a RemoteError at the requester', async () => {
    const client = connect(await memoryProvider());
    await client.serve('router.stats', () => {
      throw new RangeError('no stats yet');
    });

    const error: RemoteError = await client
      .request('router.stats', {})
      .then(() => {
        throw new Error('expected a RemoteError');
      })
      .catch((e) => e);

    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe('RangeError');
    expect(error.message).toContain('no stats yet');
  });

  it('lets a requester and a server with different codecs talk', async () => {
    const client = connect(await memoryProvider());
    await client.serve<string, string>('echo', (s) => s.toUpperCase(), {
      codec: 'msgpack',
    });

    const reply = await client.request('echo', 'hi', { codec: 'json' });

    expect(reply).toBe('HI');
  });

  it('gathers one reply from every server, failures included', async () => {
    const provider = await memoryProvider();
    const a = connect(provider);
    const b = connect(provider);
    await a.serve('router.stats', () => ({ instance: 'a' }));
    await b.serve('router.stats', () => {
      throw new Error('warming up');
    });

    const replies = await a.gather('router.stats', null, {
      timeoutMs: 2_000,
      expected: 2,
    });

    const ok = replies.filter((r) => r.ok);
    const failed = replies.filter((r) => !r.ok);
    expect(ok).toEqual([{ ok: true, data: { instance: 'a' } }]);
    expect(failed[0]?.ok === false && failed[0].error).toBeInstanceOf(
      RemoteError,
    );
  });

  it('stops serving when the server closes', async () => {
    const client = connect(await memoryProvider());
    const server = await client.serve('echo', (x) => x);

    await server.close();

    await expect(
      client.request('echo', 1, { timeoutMs: 200 }),
    ).rejects.toBeInstanceOf(NoRespondersError);
  });

  it('refuses an invalid subject', async () => {
    const client = connect(await memoryProvider());

    await expect(client.request('bad subject', 1)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('is refused on a provider without request/reply', async () => {
    const provider = await memoryProvider();
    const client = connect({
      ...provider,
      capabilities: {
        ...provider.capabilities,
        unsupported: { requestReply: 'queues only' },
      },
    });

    await expect(client.serve('echo', (x) => x)).rejects.toBeInstanceOf(
      CapabilityError,
    );
  });
});

describe('admin', () => {
  it('reports an unknown channel as a NotFoundError', async () => {
    const client = connect(await memoryProvider());

    await expect(client.admin.stats('nowhere')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(client.admin.purge('nowhere')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('passes calls on a known channel through to the transport', async () => {
    const client = connect(await memoryProvider());
    const channel = client.channel('orders', { groups: ['billing'] });
    await channel.publish(1);
    await channel.publish(2);

    const listed = await client.admin.list();
    const before = await client.admin.stats('orders');
    const purged = await client.admin.purge('orders');

    expect(listed).toEqual(['orders']);
    expect(before.depth).toBe(2);
    expect(purged).toBe(2);
    expect((await client.admin.consumers('orders'))[0]?.name).toBe('billing');
  });

  it('refuses an invalid channel name', async () => {
    const client = connect(await memoryProvider());

    await expect(client.admin.stats('X')).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
