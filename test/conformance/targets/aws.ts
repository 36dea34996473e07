/**
 * The aws provider as a conformance target: one moto server for the run,
 * stopped after it, and a fresh resource prefix per case, so cases never
 * see each other's topics, queues, tables or buckets. moto answers tens
 * of requests a second, and SQS counts leases in whole seconds, so the
 * time limits are raised rather than the cases changed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { createAwsProvider } from '../../../src/providers/aws/index.ts';
import type { ConformanceTarget } from '../../../src/testkit/index.ts';
import { startMotoServer } from '../../aws/moto.ts';

/** The aws target, on a moto server of its own. */
export async function awsTarget(): Promise<ConformanceTarget> {
  const moto = await startMotoServer();
  afterAll(() => moto.stop());

  return {
    name: 'aws',
    async setup() {
      const prefix = `c${randomBytes(4).toString('hex')}-`;

      return {
        provider: () =>
          createAwsProvider({
            endpoint: moto.endpoint,
            prefix,
            broadcastInactiveMs: 5_000,
          }),
        teardown: async () => {},
      };
    },
    timeouts: {
      caseMs: 120_000,
      eventuallyMs: 45_000,
      quietMs: 1_500,
      leaseMs: 1_000,
      requestMs: 10_000,
    },
  };
}
