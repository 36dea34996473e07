/**
 * What every scenario starts from: a 256-byte payload that carries its
 * send time, a fresh temporary data folder, and a client on a fresh
 * provider, each removed or closed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider, Switchyard } from '../../src/index.ts';
import { createSwitchyard } from '../../src/index.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import {
  createMemoryProvider,
  resetMemoryNamespace,
} from '../../src/providers/memory/index.ts';

/** Size of every message body and raw row. */
export const MESSAGE_BYTES = 256;

/** The providers measured through the client. */
export const PROVIDERS = ['local', 'memory'] as const;

export type ProviderName = (typeof PROVIDERS)[number];

/** What a payload carries in its first bytes. */
export interface Stamp {
  /** `performance.now()` when the payload was made. */
  madeAt: number;
  index: number;
}

/**
 * A fresh 256-byte body: the time it was made (a float64) and `index`
 * (a uint32) first, zeros after.
 */
export function payload(index: number): Uint8Array {
  const bytes = new Uint8Array(MESSAGE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, performance.now(), true);
  view.setUint32(8, index, true);
  return bytes;
}

/** Reads what {@link payload} wrote. */
export function readStamp(bytes: Uint8Array): Stamp {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 12);
  return { madeAt: view.getFloat64(0, true), index: view.getUint32(8, true) };
}

/** Runs `use` on a new temporary folder, removed afterwards. */
export async function withDataDir<R>(
  use: (dataDir: string) => Promise<R>,
): Promise<R> {
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
  try {
    return await use(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Runs `use` on a client of a fresh `provider`: the local provider on a
 * new temporary folder, the memory provider on a new namespace. The
 * client is closed and the folder or namespace dropped afterwards.
 */
export function withClient<R>(
  provider: ProviderName,
  use: (client: Switchyard) => Promise<R>,
): Promise<R> {
  if (provider === 'local') {
    return withDataDir(async (dataDir) =>
      useClient(await createLocalProvider({ dataDir }), use),
    );
  }

  const namespace = `bench-${randomUUID()}`;
  return createMemoryProvider({ namespace })
    .then((memory) => useClient(memory, use))
    .finally(() => resetMemoryNamespace(namespace));
}

async function useClient<R>(
  provider: Provider,
  use: (client: Switchyard) => Promise<R>,
): Promise<R> {
  const client = createSwitchyard({ provider });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}
