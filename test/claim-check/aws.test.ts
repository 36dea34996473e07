/**
 * The claim check on the aws provider, on a moto server of its own: a
 * channel is an SNS topic of 256 KiB, of which the provider keeps
 * 193,536 bytes of data once base64-encoded in its envelope.
 */
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { startMotoServer } from '../aws/moto.ts';
import { claimCheckCases } from './scenarios.ts';

const moto = await startMotoServer();
afterAll(() => moto.stop());

const prefix = `cc${randomBytes(4).toString('hex')}-`;

claimCheckCases({
  provider: 'aws',
  options: () => ({
    endpoint: moto.endpoint,
    prefix,
    broadcastInactiveMs: 5_000,
  }),
  limit: 193_536,
  eventuallyMs: 45_000,
  leaseMs: 5_000,
});
