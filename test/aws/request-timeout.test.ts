/**
 * `requestTimeoutMs` on a server that falls silent: moto behind a proxy
 * that stops forwarding without closing the connection. A call must end
 * with a retryable error once its attempts have timed out, not wait for
 * an answer that never comes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { isRetryable, TimeoutError } from '../../src/core/errors.ts';
import type { Provider } from '../../src/core/provider.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { within } from '../../src/testkit/helpers.ts';
import { startProxy, type TcpProxy } from '../faults/support/proxy.ts';
import { wireMessage } from './channel-fixtures.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

/** Far past two attempts of 500 ms: a call still open then hangs. */
const HANG_MS = 20_000;

let moto: MotoServer;
let proxy: TcpProxy;
let provider: Provider;

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startProxy({ port: moto.port });
  provider = await createAwsProvider({
    endpoint: `http://${proxy.address}`,
    prefix: 'timeouts-',
    requestTimeoutMs: 500,
    maxAttempts: 2,
  });
}, 30_000);

// A test that failed while the proxy stalled leaves none for the next.
afterEach(() => proxy.resume());

afterAll(async () => {
  await provider?.close();
  await proxy?.stop();
  await moto?.stop();
});

describe('an aws call to a server that stopped answering', () => {
  test('a publish rejects with a retryable TimeoutError once its attempts timed out', async () => {
    const channels = provider.channels!;
    await channels.ensure({ name: 'orders', ordered: false, groups: [] });
    proxy.stall();

    const [outcome] = await within(
      channels.publish('orders', [wireMessage('orders', 1)]),
      HANG_MS,
      'a publish while the server is silent',
    );

    expect(outcome?.ok).toBe(false);
    const error = outcome?.ok === false ? outcome.error : undefined;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isRetryable(error)).toBe(true);
    expect((error as TimeoutError).details).toMatchObject({
      provider: 'aws',
      channel: 'orders',
    });
  });

  test('a key-value read rejects with a retryable TimeoutError once its attempts timed out', async () => {
    const bucket = await provider.kv!.open('settings', { create: true });
    proxy.stall();

    const read = bucket.get('theme').then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = await within(
      read,
      HANG_MS,
      'a read while the server is silent',
    );

    expect(error).toBeInstanceOf(TimeoutError);
    expect(isRetryable(error)).toBe(true);
  });
});
