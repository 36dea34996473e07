/**
 * The claim check on the local provider, with a limit of 4096 bytes, in a
 * data folder of its own that is removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { claimCheckCases } from './scenarios.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-claim-check-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

claimCheckCases({
  provider: 'local',
  options: () => ({ dataDir, maxPayloadBytes: 4096 }),
  limit: 4096,
  eventuallyMs: 10_000,
  leaseMs: 30_000,
});
