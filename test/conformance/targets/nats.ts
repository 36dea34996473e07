/**
 * The nats provider as a conformance target: one nats-server with
 * JetStream, started on a free port for the run and stopped after it, and
 * a fresh stream and bucket prefix per case, so cases never see each
 * other's channels or buckets.
 */
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { createNatsProvider } from '../../../src/providers/nats/index.ts';
import type { ConformanceTarget } from '../../../src/testkit/index.ts';
import { startNatsServer } from '../../nats/server.ts';

/** The nats target, on a server of its own. */
export async function natsTarget(): Promise<ConformanceTarget> {
  const server = await startNatsServer();
  afterAll(() => server.stop());

  return {
    name: 'nats',
    async setup() {
      const streamPrefix = `c${randomBytes(4).toString('hex')}_`;

      return {
        provider: () =>
          createNatsProvider({
            servers: server.url,
            streamPrefix,
            broadcastInactiveMs: 5_000,
          }),
        teardown: async () => {},
      };
    },
  };
}
