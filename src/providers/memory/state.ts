/**
 * The shared state of the memory provider: one set of channels, buckets
 * and tables per namespace, which every provider instance created with
 * that namespace in this process reads and writes, as clients of one
 * server would.
 */
import { resetInProcessRequests } from '../../core/in-process-requests.ts';
import type { ChannelState } from './channel-state.ts';
import type { IdempotencyTable } from './idempotency.ts';
import type { KvBucketState } from './kv-state.ts';
import type { ObjectBucketState } from './objects.ts';

/** Everything a namespace holds. */
export interface NamespaceState {
  readonly channels: Map<string, ChannelState>;
  readonly kv: Map<string, KvBucketState>;
  readonly objects: Map<string, ObjectBucketState>;
  readonly idempotency: Map<string, IdempotencyTable>;
}

const namespaces = new Map<string, NamespaceState>();

/** The state of `namespace`, created empty on first use. */
export function namespaceState(namespace: string): NamespaceState {
  let state = namespaces.get(namespace);
  if (state === undefined) {
    state = {
      channels: new Map(),
      kv: new Map(),
      objects: new Map(),
      idempotency: new Map(),
    };
    namespaces.set(namespace, state);
  }
  return state;
}

/** Name of a namespace's bus in the in-process request registry. */
export function requestNamespace(namespace: string): string {
  return `memory:${namespace}`;
}

/**
 * Drops everything `namespace` holds (channels with their messages,
 * consumers and dead letters, buckets, idempotency tables and request
 * servers), so that a test starts from nothing. Fetches waiting on its
 * channels return, watches of its buckets end, and providers of the
 * namespace see it empty; they stay open.
 *
 * @example
 * afterEach(() => resetMemoryNamespace('orders-test'));
 */
export function resetMemoryNamespace(namespace: string): void {
  resetInProcessRequests(requestNamespace(namespace));
  const state = namespaces.get(namespace);
  if (state === undefined) return;

  // The maps are emptied, not replaced: open providers hold them.
  const channels = [...state.channels.values()];
  const buckets = [...state.kv.values()];
  state.channels.clear();
  state.kv.clear();
  state.objects.clear();
  state.idempotency.clear();
  for (const channel of channels) {
    channel.deleted = true;
    channel.notify();
  }
  for (const bucket of buckets) bucket.drop();
}
