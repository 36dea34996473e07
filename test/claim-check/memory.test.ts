/** The claim check on the memory provider, with a limit of 4096 bytes. */
import { randomUUID } from 'node:crypto';
import { claimCheckCases } from './scenarios.ts';

const namespace = `claim-check-${randomUUID()}`;

claimCheckCases({
  provider: 'memory',
  options: () => ({ namespace, maxPayloadBytes: 4096 }),
  limit: 4096,
  eventuallyMs: 5_000,
  leaseMs: 30_000,
});
