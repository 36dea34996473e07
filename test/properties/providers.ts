/**
 * The embedded providers the property tests run on: memory, and local in
 * a temporary data folder that `remove` deletes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider } from '../../src/core/provider.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';

/** A provider to open for a test file, and how to remove what it kept. */
export interface EmbeddedProvider {
  name: string;
  open: () => Promise<{ provider: Provider; remove: () => Promise<void> }>;
}

/** Memory and local, their namespace and data folder named after `stem`. */
export function embeddedProviders(stem: string): EmbeddedProvider[] {
  return [
    {
      name: 'memory',
      open: async () => ({
        provider: await createMemoryProvider({
          namespace: `${stem}-properties-${process.pid}`,
        }),
        remove: async () => {},
      }),
    },
    {
      name: 'local',
      open: async () => {
        const dataDir = await mkdtemp(join(tmpdir(), `switchyard-${stem}-`));
        return {
          provider: await createLocalProvider({ dataDir }),
          remove: () => rm(dataDir, { recursive: true, force: true }),
        };
      },
    },
  ];
}
