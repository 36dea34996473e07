/**
 * The {@link KvBucket} handle: keys and prefixes are validated, values go
 * through the bucket's codec, and the bucket is opened lazily, once.
 */
import { supports } from './capabilities.ts';
import type { Codec } from './codec.ts';
import { encodeValue, resolveCodec } from './codecs.ts';
import { CapabilityError, DecodeError } from './errors.ts';
import { afterOpen, mapIterable } from './iterables.ts';
import type { KvBucket, KvEntry, KvEvent, KvOptions } from './kv.ts';
import { lazy } from './lazy.ts';
import { assertKey, assertKeyPrefix, assertName } from './names.ts';
import { durationOption } from './options.ts';
import type { KvStore, RawKvEntry, RawKvEvent } from './provider.ts';
import type { Runtime } from './runtime.ts';

/**
 * Makes the handle of bucket `name`. Throws at once a `ValidationError`
 * for a bad name, a `ConfigurationError` for a bad codec or TTL or a
 * provider without key-value buckets, and a `CapabilityError` for `ttlMs`
 * on a provider without `kvTtl`. With `create: false`, a missing bucket is
 * a `NotFoundError` on first use.
 */
export function createKvHandle<T>(
  runtime: Runtime,
  name: string,
  options: KvOptions<T> = {},
): KvBucket<T> {
  assertName('bucket', name);
  const codec = resolveCodec(options.codec, 'kv.codec');
  const transport = runtime.transport('kv');
  const capabilities = runtime.capabilities('kv');
  let ttlMs: number | undefined;
  if (options.ttlMs !== undefined) {
    ttlMs = durationOption(options.ttlMs, 0, 'kv.ttlMs', 1);
    if (!supports(capabilities, 'kvTtl')) {
      throw new CapabilityError(
        `bucket '${name}' has a TTL, but provider '${runtime.provider('kv').name}' does not expire entries: ${capabilities.unsupported.kvTtl}`,
        { feature: 'kvTtl', details: { bucket: name } },
      );
    }
  }
  const canWatch = supports(capabilities, 'watch');
  const providerName = runtime.provider('kv').name;

  const open = lazy(() =>
    transport.open(name, {
      create: options.create ?? true,
      ...(ttlMs !== undefined && { ttlMs }),
    }),
  );
  const store = async (): Promise<KvStore> => {
    runtime.assertOpen();
    return open();
  };

  return {
    name,
    async get(key) {
      assertKey(key);
      const raw = await (await store()).get(key);
      return raw === undefined ? undefined : decodeEntry(raw, codec, name);
    },
    async put(key, value) {
      assertKey(key);
      const bytes = encodeValue(codec, value);
      return (await store()).put(key, bytes);
    },
    async create(key, value) {
      assertKey(key);
      const bytes = encodeValue(codec, value);
      return (await store()).create(key, bytes);
    },
    async update(key, value, revision) {
      assertKey(key);
      const bytes = encodeValue(codec, value);
      return (await store()).update(key, bytes, revision);
    },
    async delete(key, deleteOptions) {
      assertKey(key);
      await (await store()).delete(key, deleteOptions);
    },
    keys(prefix = '') {
      assertKeyPrefix(prefix);
      return afterOpen(store, (s) => s.keys(prefix));
    },
    entries(prefix = '') {
      assertKeyPrefix(prefix);
      return mapIterable(
        afterOpen(store, (s) => s.entries(prefix)),
        (raw) => decodeEntry(raw, codec, name),
      );
    },
    watch(watchOptions = {}) {
      if (!canWatch) {
        throw new CapabilityError(
          `watch is not supported by provider '${providerName}': ${capabilities.unsupported.watch}`,
          { feature: 'watch', details: { bucket: name } },
        );
      }
      const prefix = assertKeyPrefix(watchOptions.prefix ?? '');
      const { signal } = watchOptions;
      return mapIterable(
        afterOpen(store, (s) =>
          s.watch({ prefix, ...(signal !== undefined && { signal }) }),
        ),
        (event) => decodeEvent(event, codec, name),
      );
    },
  };
}

function decodeEntry<T>(
  raw: RawKvEntry,
  codec: Codec<T>,
  bucket: string,
): KvEntry<T> {
  let value: T;
  try {
    value = codec.decode(raw.value);
  } catch (cause) {
    throw new DecodeError(
      `value of key '${raw.key}' in bucket '${bucket}' could not be decoded with codec '${codec.name}': ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, field: 'value', details: { bucket, key: raw.key } },
    );
  }
  return {
    key: raw.key,
    value,
    revision: raw.revision,
    updatedAt: new Date(raw.updatedAt),
  };
}

function decodeEvent<T>(
  event: RawKvEvent,
  codec: Codec<T>,
  bucket: string,
): KvEvent<T> {
  if (event.type === 'snapshot') {
    return {
      type: 'snapshot',
      entries: event.entries.map((e) => decodeEntry(e, codec, bucket)),
    };
  }
  if (event.type === 'put') {
    return { type: 'put', entry: decodeEntry(event.entry, codec, bucket) };
  }
  return {
    type: 'delete',
    key: event.key,
    ...(event.revision !== undefined && { revision: event.revision }),
  };
}
