/** Key-value buckets of the memory provider. */
import { ValidationError } from '../../core/errors.ts';
import type {
  KvStore,
  KvTransport,
  RawKvEntry,
  RawKvEvent,
} from '../../core/provider.ts';
import { KvBucketState } from './kv-state.ts';
import { conflict, type Lifecycle, notFound, PROVIDER } from './support.ts';

/**
 * Creates the key-value transport of one provider instance over the
 * namespace's `buckets`. A bucket keeps the TTL it was created with;
 * opening it again with another `ttlMs` does not change it. Deleting an
 * absent bucket does nothing.
 */
export function createMemoryKv(
  buckets: Map<string, KvBucketState>,
  lifecycle: Lifecycle,
): KvTransport {
  return {
    async open(
      bucket: string,
      options: { create: boolean; ttlMs?: number },
    ): Promise<KvStore> {
      lifecycle.check('open a key-value bucket');
      const { ttlMs } = options;
      if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) {
        throw new ValidationError(
          `ttlMs of key-value bucket '${bucket}' must be a positive number of milliseconds, got ${ttlMs}`,
          {
            field: 'ttlMs',
            value: ttlMs,
            details: { provider: PROVIDER, bucket },
          },
        );
      }
      if (!buckets.has(bucket)) {
        if (!options.create) throw notFound('kv-bucket', bucket, { bucket });
        buckets.set(bucket, new KvBucketState(bucket, ttlMs));
      }

      return createStore(bucket, buckets, lifecycle);
    },

    async list(): Promise<string[]> {
      lifecycle.check('list key-value buckets');
      return [...buckets.keys()].sort();
    },

    async delete(bucket: string): Promise<void> {
      lifecycle.check('delete a key-value bucket');
      const state = buckets.get(bucket);
      if (state === undefined) return;
      buckets.delete(bucket);
      state.drop();
    },
  };
}

/**
 * A handle on a bucket. It looks the bucket up on every call, so that a
 * handle on a deleted bucket raises NotFoundError.
 */
function createStore(
  name: string,
  buckets: Map<string, KvBucketState>,
  lifecycle: Lifecycle,
): KvStore {
  const bucket = (operation: string): KvBucketState => {
    lifecycle.check(operation);
    const state = buckets.get(name);
    if (state === undefined) {
      throw notFound('kv-bucket', name, { bucket: name });
    }
    return state;
  };
  const details = (key: string) => ({ bucket: name, key });

  return {
    async get(key: string): Promise<RawKvEntry | undefined> {
      return bucket('read a key').get(key, Date.now());
    },

    async put(key: string, value: Uint8Array): Promise<string> {
      return bucket('write a key').put(key, value, Date.now());
    },

    async create(key: string, value: Uint8Array): Promise<string> {
      const state = bucket('create a key');
      const now = Date.now();
      const current = state.get(key, now);
      if (current !== undefined) {
        throw conflict(
          `key '${key}' already exists in bucket '${name}' at revision ${current.revision}`,
          undefined,
          current.revision,
          details(key),
        );
      }
      return state.put(key, value, now);
    },

    async update(
      key: string,
      value: Uint8Array,
      revision: string,
    ): Promise<string> {
      const state = bucket('update a key');
      const now = Date.now();
      const current = state.get(key, now);
      if (current?.revision !== revision) {
        throw mismatch(name, key, revision, current?.revision);
      }
      return state.put(key, value, now);
    },

    async delete(
      key: string,
      options: { revision?: string } = {},
    ): Promise<void> {
      const state = bucket('delete a key');
      const now = Date.now();
      if (options.revision !== undefined) {
        const current = state.get(key, now);
        if (current?.revision !== options.revision) {
          throw mismatch(name, key, options.revision, current?.revision);
        }
      }
      state.delete(key, now);
    },

    async *keys(prefix: string): AsyncIterable<string> {
      const entries = bucket('list keys').list(prefix, Date.now());
      for (const entry of entries) yield entry.key;
    },

    async *entries(prefix: string): AsyncIterable<RawKvEntry> {
      yield* bucket('list entries').list(prefix, Date.now());
    },

    watch(options: {
      prefix: string;
      signal?: AbortSignal;
    }): AsyncIterable<RawKvEvent> {
      const state = bucket('watch a bucket');
      return state.watch(options.prefix, options.signal, lifecycle);
    },
  };
}

function mismatch(
  bucket: string,
  key: string,
  expected: string,
  actual: string | undefined,
) {
  const found =
    actual === undefined ? 'the key is absent' : `it is at revision ${actual}`;
  return conflict(
    `key '${key}' of bucket '${bucket}' is not at revision ${expected}: ${found}`,
    expected,
    actual,
    { bucket, key },
  );
}
