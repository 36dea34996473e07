import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadProvider } from '../../src/config/registry.ts';
import {
  ConfigurationError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { resolveNatsOptions } from '../../src/providers/nats/options.ts';
import { eventually, expectError } from '../../src/testkit/helpers.ts';
import { bucketName, bytes, text } from './fixtures.ts';
import { freePort, type NatsTestServer, startNatsServer } from './server.ts';

let server: NatsTestServer;

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  await server.stop();
});

describe('nats provider options', () => {
  test('the defaults apply when no option is given', () => {
    const options = resolveNatsOptions({});

    expect(options).toMatchObject({
      servers: ['127.0.0.1:4222'],
      connectTimeoutMs: 5000,
      streamPrefix: '',
      duplicateWindowMs: 120_000,
      broadcastInactiveMs: 60_000,
    });
  });

  test('one server may be given as a string', () => {
    expect(resolveNatsOptions({ servers: 'nats://a:4222' }).servers).toEqual([
      'nats://a:4222',
    ]);
  });

  test.each([
    ['servers', []],
    ['servers', [42]],
    ['connectTimeoutMs', -1],
    ['connectTimeoutMs', 'soon'],
    ['duplicateWindowMs', 1.5],
    ['broadcastInactiveMs', 10],
    ['streamPrefix', 'has space'],
    ['name', ''],
  ])('%s of %j is refused naming the field', (field, value) => {
    const error = (() => {
      try {
        resolveNatsOptions({ [field]: value });
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect((error as ConfigurationError).message).toContain(field);
  });

  test('an unknown option is refused naming it', () => {
    expect(() => resolveNatsOptions({ url: 'x' })).toThrow(
      /url is not an option/,
    );
  });

  test('a password is never echoed in the error', () => {
    expect(() => resolveNatsOptions({ pass: 'secret' })).toThrow(
      ConfigurationError,
    );
    expect(() => resolveNatsOptions({ pass: 'secret' })).not.toThrow(/secret/);
  });
});

describe('nats connection', () => {
  test('a server that is down at start fails within the timeout naming the servers', async () => {
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) => `127.0.0.1:${port}`);

    const error = await expectError(
      () => createNatsProvider({ servers, connectTimeoutMs: 1000 }),
      TransportUnavailableError,
    );

    expect(error.message).toContain(servers[0]);
    expect(error.message).toContain(servers[1]);
    expect(error.details).toMatchObject({ provider: 'nats' });
    expect(error.retryable).toBe(true);
  });

  test('a server that accepts but never answers fails at the timeout, not a hang', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) =>
      silent.listen(0, '127.0.0.1', resolve),
    );
    const { port } = silent.address() as AddressInfo;
    try {
      const error = await expectError(
        () =>
          createNatsProvider({
            servers: `127.0.0.1:${port}`,
            connectTimeoutMs: 500,
          }),
        TransportUnavailableError,
      );

      expect(error.message).toContain(`127.0.0.1:${port}`);
    } finally {
      silent.close();
      for (const socket of sockets) socket.destroy();
    }
  });

  test('a server without JetStream is refused saying so', async () => {
    const plain = await startNatsServer({ jetstream: false });
    try {
      const error = await expectError(
        () => createNatsProvider({ servers: plain.url }),
        TransportUnavailableError,
      );

      expect(error.message).toContain('JetStream is not enabled');
    } finally {
      await plain.stop();
    }
  });

  test('the capabilities follow the server and the options', async () => {
    const provider = await createNatsProvider({
      servers: server.url,
      duplicateWindowMs: 30_000,
    });

    const { capabilities } = provider;
    await provider.close();

    expect(capabilities.maxPayloadBytes).toBeGreaterThan(1_000_000);
    expect(capabilities.maxPayloadBytes).toBeLessThan(1_048_576);
    expect(capabilities.dedupWindowMs).toBe(30_000);
    expect(capabilities.native).toEqual({
      deadLetter: false,
      watch: true,
      requestReply: true,
    });
  });

  test('configuration finds the provider under the name nats', async () => {
    const factory = await loadProvider('nats');

    const provider = await factory(
      { servers: server.url },
      { logger: silentLogger, instanceId: 'test' },
    );
    await provider.close();

    expect(provider.name).toBe('nats');
  });

  test('buckets survive a restart of the server and the provider reconnects', async () => {
    const own = await startNatsServer();
    const provider = await createNatsProvider({ servers: own.url });
    try {
      const bucket = await provider.kv!.open(bucketName('kept'), {
        create: true,
      });
      await bucket.put('a', bytes('1'));

      await own.restart();
      const entry = await eventually(() => bucket.get('a'), {
        timeoutMs: 20_000,
      });

      expect(text(entry!.value)).toBe('1');
    } finally {
      await provider.close();
      await own.stop();
    }
  });

  test('an operation on a closed provider is refused', async () => {
    const provider = await createNatsProvider({ servers: server.url });
    const bucket = await provider.kv!.open(bucketName('closed'), {
      create: true,
    });

    await provider.close();

    await expectError(() => bucket.get('a'), Error);
    await expectError(
      () => provider.kv!.open('other', { create: true }),
      Error,
    );
  });
});
