/**
 * Factories of the nats provider's tests: a provider context on a test
 * server, byte values, and collecting a watch.
 */
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import {
  closeNatsContext,
  type NatsContext,
  openNatsContext,
} from '../../src/providers/nats/connection.ts';
import {
  type NatsProviderOptions,
  resolveNatsOptions,
} from '../../src/providers/nats/options.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

/** A context connected to `server`, closed by the returned function. */
export async function openContext(
  server: NatsTestServer,
  options: NatsProviderOptions = {},
): Promise<NatsContext> {
  return openNatsContext(
    resolveNatsOptions({ servers: server.url, ...options }),
    { logger: silentLogger },
  );
}

export { closeNatsContext };

/** A server and a context on it for the tests of one file. */
export interface FileServer {
  readonly server: NatsTestServer;
  readonly ctx: NatsContext;
}

/**
 * Starts a server and opens a context on it before the tests of the
 * calling file, and closes both after them.
 */
export function serverForFile(): FileServer {
  let server: NatsTestServer | undefined;
  let ctx: NatsContext | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
    ctx = await openContext(server);
  });
  afterAll(async () => {
    if (ctx !== undefined) await closeNatsContext(ctx);
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the server is not started');
      return server;
    },
    get ctx() {
      if (ctx === undefined) throw new Error('the context is not open');
      return ctx;
    },
  };
}

/** The UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `data` as UTF-8 text. */
export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** A bucket name unique within the test run. */
export function bucketName(stem: string): string {
  return `${stem}-${Math.random().toString(36).slice(2, 10)}`;
}
