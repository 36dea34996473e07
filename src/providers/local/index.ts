/**
 * The `local` provider: the embedded default. Channels, key-value buckets
 * and idempotency records live in one SQLite database (WAL mode) in a
 * data folder, object contents in files beside it. Several processes on
 * one machine that share the folder share everything in it: a worker
 * group spread over them hands each message to one of them.
 *
 * Request/reply is in-process only: servers and requesters meet when
 * they run in the same process and use the same data folder, never
 * across processes.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { createInProcessRequests } from '../../core/in-process-requests.ts';
import { silentLogger } from '../../core/logger.ts';
import type {
  Provider,
  ProviderContext,
  ProviderFactory,
} from '../../core/provider.ts';
import { Lifecycle } from '../../core/provider-kit.ts';
import { LocalChannels } from './channels.ts';
import type { LocalContext } from './context.ts';
import { openDatabase } from './database.ts';
import { LocalIdempotency } from './idempotency.ts';
import { LocalKv } from './kv.ts';
import { startMaintenance } from './maintenance.ts';
import { LocalObjects } from './objects.ts';
import { type LocalProviderOptions, resolveLocalOptions } from './options.ts';
import { PROVIDER } from './support.ts';
import { Wakeups } from './wakeups.ts';
import { Writer } from './writer.ts';

export type { LocalProviderOptions } from './options.ts';

/** Largest number of messages one publish call stores. */
export const MAX_BATCH_SIZE = 1000;

/**
 * Opens the local provider on `options.dataDir` (default `.switchyard`
 * in the working directory), creating the folder and the database if
 * absent. Throws a ConfigurationError naming the option when an option is
 * invalid, a TransportUnavailableError when the folder cannot be opened.
 *
 * A publish resolves once its transaction committed: with the default
 * `synchronous: 'normal'` it survives a crash of the process, with
 * `'full'` a power loss too. Writes issued in the same turn of the event
 * loop share one transaction.
 *
 * @example
 * ```ts
 * const provider = await createLocalProvider({ dataDir: '/var/lib/app' });
 * await provider.channels!.ensure({ name: 'orders', ordered: false, groups: [] });
 * await provider.close();
 * ```
 */
export async function createLocalProvider(
  options: LocalProviderOptions = {},
  context: Partial<ProviderContext> = {},
): Promise<Provider> {
  const resolved = resolveLocalOptions(
    options as unknown as Record<string, unknown>,
  );
  const db = openDatabase(resolved);

  const shared: LocalContext = {
    db,
    writer: new Writer(db),
    wakeups: new Wakeups(),
    options: resolved,
    logger: context.logger ?? silentLogger,
    lifecycle: new Lifecycle(PROVIDER),
  };
  const stopMaintenance = startMaintenance(shared);
  const requests = createInProcessRequests({
    namespace: `${PROVIDER}:${resolved.dataDir}`,
    provider: PROVIDER,
  });

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    stopMaintenance();
    await shared.lifecycle.close();
    await requests.close();
    shared.writer.close();
    shared.wakeups.notifyAll();
    db.close();
  };

  return {
    name: PROVIDER,
    capabilities: localCapabilities(resolved),
    channels: new LocalChannels(shared),
    kv: new LocalKv(shared),
    objects: new LocalObjects(shared),
    requests,
    idempotency: new LocalIdempotency(shared),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * The provider factory that configuration loads: `options` is the
 * `providers.local` section (see {@link LocalProviderOptions}).
 */
export const createProvider: ProviderFactory = (options, context) =>
  createLocalProvider(options as LocalProviderOptions, context);

/**
 * What the local provider can do: every feature, including several
 * processes sharing a data folder for channels, buckets and idempotency
 * records. Request/reply works within one process only, which no feature
 * flag expresses.
 */
function localCapabilities(options: {
  maxPayloadBytes: number;
  dedupWindowMs: number;
}): Capabilities {
  return {
    maxPayloadBytes: options.maxPayloadBytes,
    maxBatchSize: MAX_BATCH_SIZE,
    dedupWindowMs: options.dedupWindowMs,
    native: { deadLetter: true, watch: true, requestReply: false },
    unsupported: {},
  };
}
