import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Provider, RawKvEvent } from '../../src/core/provider.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { bucketName, bytes, text } from './fixtures.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

let server: NatsTestServer;
let provider: Provider;

beforeAll(async () => {
  server = await startNatsServer();
  provider = await createNatsProvider({ servers: server.url });
});

afterAll(async () => {
  await provider.close();
  await server.stop();
});

describe('nats provider across a server restart', () => {
  test('a server of a subject answers again once the server is back', async () => {
    const requests = provider.requests!;
    await requests.serve('restart.echo', async (body) => body);

    await server.restart();
    const reply = await eventually(
      () => requests.request('restart.echo', bytes('hi'), { timeoutMs: 1000 }),
      { timeoutMs: 20_000 },
    );

    expect(text(reply)).toBe('hi');
  });

  test('a watch reports writes made after the server came back', async () => {
    const bucket = await provider.kv!.open(bucketName('watched'), {
      create: true,
    });
    await bucket.put('before', bytes('1'));
    const stop = new AbortController();
    const events = bucket
      .watch({ prefix: '', signal: stop.signal })
      [Symbol.asyncIterator]();
    await events.next();

    await server.restart();
    await eventually(() => bucket.put('after', bytes('2')), {
      timeoutMs: 20_000,
    });
    const seen: RawKvEvent[] = [];
    while (!seen.some((e) => e.type === 'put' && e.entry.key === 'after')) {
      const next = await events.next();
      if (next.done) break;
      seen.push(next.value);
    }
    stop.abort();

    expect(seen.at(-1)).toMatchObject({ type: 'put', entry: { key: 'after' } });
  });

  test('idempotency records survive a restart', async () => {
    const table = await provider.idempotency!.open(bucketName('records'));
    await table.begin('crew#m1', {
      owner: 'a',
      leaseMs: 60_000,
      ttlMs: 60_000,
    });
    await table.complete('crew#m1', { owner: 'a', data: '7', ttlMs: 60_000 });

    await server.restart();
    const outcome = await eventually(
      () =>
        table.begin('crew#m1', { owner: 'b', leaseMs: 1000, ttlMs: 60_000 }),
      { timeoutMs: 20_000 },
    );

    expect(outcome).toEqual({ status: 'completed', data: '7' });
  });
});
