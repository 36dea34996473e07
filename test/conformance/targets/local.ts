/**
 * The local provider as a conformance target: one fresh data folder per
 * case under the system's temporary folder, removed on teardown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalProvider } from '../../../src/providers/local/index.ts';
import type { ConformanceTarget } from '../../../src/testkit/index.ts';

/** The local target, with the provider's default options. */
export function localTarget(): ConformanceTarget {
  return {
    name: 'local',
    async setup() {
      const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-conformance-'));

      return {
        provider: () => createLocalProvider({ dataDir }),
        teardown: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  };
}
