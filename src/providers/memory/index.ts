/**
 * The memory provider: every part of the provider contract (channels,
 * key-value and object buckets, request/reply, idempotency tables) held
 * in this process, for unit tests. It follows the semantics of the
 * brokers it stands in for: leased deliveries with visibility timeouts,
 * attempt counts per message, conditional writes, a dedup window.
 *
 * Providers created with the same namespace share their state, like
 * clients of one server: two of them can form one worker group, or be two
 * broadcast instances. Nothing is persisted; state lives until the
 * process exits or {@link resetMemoryNamespace} drops it.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { createInProcessRequests } from '../../core/in-process-requests.ts';
import type { Provider, ProviderFactory } from '../../core/provider.ts';
import { createMemoryChannels } from './channels.ts';
import { createMemoryIdempotency } from './idempotency.ts';
import { createMemoryKv } from './kv.ts';
import { createMemoryObjects } from './objects.ts';
import {
  MEMORY_DEFAULTS,
  type MemoryProviderOptions,
  resolveMemoryOptions,
} from './options.ts';
import { namespaceState, requestNamespace } from './state.ts';
import { Lifecycle, PROVIDER } from './support.ts';

export type { MemoryProviderOptions } from './options.ts';
export { resetMemoryNamespace } from './state.ts';
export { MEMORY_DEFAULTS };

/** Largest number of messages the memory provider takes in one publish. */
export const MEMORY_MAX_BATCH_SIZE = 1000;

/**
 * Creates a memory provider. It supports every feature: its capabilities
 * list nothing as unsupported, and declare native dead-lettering, watch
 * and request/reply.
 *
 * `close()` closes the consumers, watches and request servers this
 * instance opened (broadcast consumers are removed) and leaves the
 * namespace's state to the other instances. Its timers are unreferenced,
 * so they never keep a test process alive.
 *
 * Throws a ConfigurationError naming the field when an option is invalid.
 *
 * @example
 * const a = await createMemoryProvider({ namespace: 'orders-test' });
 * const b = await createMemoryProvider({ namespace: 'orders-test' });
 * // a and b see the same channels: consumers of one group on both
 * // share its messages.
 */
export async function createMemoryProvider(
  options: MemoryProviderOptions = {},
): Promise<Provider> {
  const resolved = resolveMemoryOptions({ ...options });
  const state = namespaceState(resolved.namespace);
  const lifecycle = new Lifecycle(PROVIDER);
  const requests = createInProcessRequests({
    namespace: requestNamespace(resolved.namespace),
    provider: PROVIDER,
  });
  const capabilities: Capabilities = {
    maxPayloadBytes: resolved.maxPayloadBytes,
    maxBatchSize: MEMORY_MAX_BATCH_SIZE,
    dedupWindowMs: resolved.dedupWindowMs,
    native: { deadLetter: true, watch: true, requestReply: true },
    unsupported: {},
  };

  return {
    name: PROVIDER,
    capabilities,
    channels: createMemoryChannels({
      channels: state.channels,
      lifecycle,
      maxPayloadBytes: resolved.maxPayloadBytes,
      dedupWindowMs: resolved.dedupWindowMs,
    }),
    kv: createMemoryKv(state.kv, lifecycle),
    objects: createMemoryObjects(state.objects, lifecycle),
    requests: {
      serve: async (subject, handler) => {
        lifecycle.check('serve a subject');
        return requests.serve(subject, handler);
      },
      request: async (subject, body, requestOptions) => {
        lifecycle.check('send a request');
        return requests.request(subject, body, requestOptions);
      },
      gather: async (subject, body, gatherOptions) => {
        lifecycle.check('gather replies');
        return requests.gather(subject, body, gatherOptions);
      },
    },
    idempotency: createMemoryIdempotency(state.idempotency, lifecycle),
    async close(): Promise<void> {
      await lifecycle.close();
      await requests.close();
    },
  };
}

/**
 * The factory configuration loads: `options` is the `memory` section of
 * the configuration (`namespace`, `maxPayloadBytes`, `dedupWindowMs`).
 * Unknown or invalid fields raise a ConfigurationError naming the field.
 */
export const createProvider: ProviderFactory = async (options) =>
  createMemoryProvider(resolveMemoryOptions(options));
