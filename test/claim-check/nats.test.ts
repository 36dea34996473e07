/**
 * The claim check on the nats provider, on a nats-server of its own whose
 * `max_payload` is 16384 bytes: the provider declares that less the 8192
 * it keeps for headers.
 */
import { afterAll } from 'vitest';
import { HEADER_MARGIN_BYTES } from '../../src/providers/nats/index.ts';
import { startNatsServer } from '../nats/server.ts';
import { claimCheckCases } from './scenarios.ts';

const MAX_PAYLOAD = 16_384;

const server = await startNatsServer({ maxPayload: MAX_PAYLOAD });
afterAll(() => server.stop());

claimCheckCases({
  provider: 'nats',
  options: () => ({ servers: server.url }),
  limit: MAX_PAYLOAD - HEADER_MARGIN_BYTES,
  eventuallyMs: 10_000,
  leaseMs: 30_000,
});
