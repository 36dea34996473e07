/**
 * Key-value buckets on JetStream KV. A bucket is the stream
 * `KV_{bucket}` with one message kept per key; an entry's revision is the
 * stream sequence of its last write, so revisions increase with every
 * write. `create`, `update` and `delete` on a revision are the server's
 * own compare-and-swap (the expected last subject sequence header).
 */
import { type KV, Kvm } from '@nats-io/kv';
import { PayloadTooLargeError } from '../../core/errors.ts';
import type {
  KvStore,
  KvTransport,
  RawKvEntry,
  RawKvEvent,
} from '../../core/provider.ts';
import type { NatsContext } from './connection.ts';
import {
  API_CODES,
  apiCode,
  type BucketRef,
  bucketError,
  conflict,
  inBucket,
  natsError,
  PROVIDER,
} from './errors.ts';
import { keyFilter, kvBucket, kvStream, userBucket } from './names.ts';
import { toEntry, watchKv } from './watch.ts';

/** Entries `entries` reads at once, in key order. */
const READ_AHEAD = 64;

/**
 * The key-value buckets of one NATS account. A bucket keeps the TTL it
 * was created with; opening it again with another `ttlMs` does not
 * change it.
 */
export class NatsKv implements KvTransport {
  readonly #context: NatsContext;
  readonly #kvm: Kvm;

  constructor(context: NatsContext) {
    this.#context = context;
    this.#kvm = new Kvm(context.js);
  }

  async open(
    bucket: string,
    options: { create: boolean; ttlMs?: number },
  ): Promise<KvStore> {
    this.#context.lifecycle.check('open a key-value bucket');
    const kv = await openKvBucket(
      this.#context,
      this.#kvm,
      kvBucket(this.#context.options, bucket),
      { ...options, kind: 'kv-bucket', resource: bucket },
    );
    return new NatsKvStore(this.#context, kv, bucket);
  }

  list(): Promise<string[]> {
    return listUserBuckets(
      this.#context,
      () => this.#kvm.list(),
      'list key-value buckets',
    );
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete a key-value bucket');
    await deleteStream(
      this.#context,
      kvStream(kvBucket(this.#context.options, bucket)),
      'delete a key-value bucket',
    );
  }
}

/**
 * Opens KV bucket `name`, creating it with `create` (and `ttlMs` as its
 * `max_age`). NotFoundError of `kind` when it is absent and not created.
 */
export async function openKvBucket(
  context: NatsContext,
  kvm: Kvm,
  name: string,
  options: {
    create: boolean;
    ttlMs?: number;
    kind: 'kv-bucket' | 'object-bucket';
    resource: string;
  },
): Promise<KV> {
  const { kind, resource } = options;
  const report = {
    details: { bucket: resource },
    notFound: { kind, resource },
  };
  try {
    if (options.create) {
      await kvm.create(name, {
        history: 1,
        ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs }),
      });
    } else {
      await context.jsm.streams.info(kvStream(name));
    }
    // Bound without direct gets: a direct get of a deleted bucket gets
    // no answer and times out, where the stream API answers at once
    // that the stream is gone.
    return await kvm.open(name);
  } catch (error) {
    throw natsError(error, `open bucket '${resource}'`, report);
  }
}

/**
 * The names, as the user gave them, of the buckets that `statuses` lists
 * and that belong to this provider's prefix, sorted.
 */
export async function listUserBuckets(
  context: NatsContext,
  statuses: () => AsyncIterable<{ bucket: string }>,
  operation: string,
): Promise<string[]> {
  context.lifecycle.check(operation);
  const names: string[] = [];
  try {
    for await (const status of statuses()) {
      const bucket = userBucket(context.options, status.bucket);
      if (bucket !== undefined) names.push(bucket);
    }
  } catch (error) {
    throw natsError(error, operation);
  }
  return names.sort();
}

/** Deletes stream `stream`; an absent stream is already deleted. */
export async function deleteStream(
  context: NatsContext,
  stream: string,
  operation: string,
): Promise<void> {
  try {
    await context.jsm.streams.delete(stream);
  } catch (error) {
    if (apiCode(error) === API_CODES.streamNotFound) return;
    throw natsError(error, operation);
  }
}

/**
 * One bucket. Entries of a bucket with a TTL expire `ttlMs` after their
 * last write; on nats-server 2.9 the server removes them without a
 * marker, so their expiry is not reported to watches.
 */
class NatsKvStore implements KvStore {
  readonly #context: NatsContext;
  readonly #kv: KV;
  readonly #bucket: string;

  constructor(context: NatsContext, kv: KV, bucket: string) {
    this.#context = context;
    this.#kv = kv;
    this.#bucket = bucket;
  }

  async get(key: string): Promise<RawKvEntry | undefined> {
    this.#context.lifecycle.check('read a key');
    const entry = await this.#call('read a key', key, () => this.#kv.get(key));
    return entry === null || entry.operation !== 'PUT'
      ? undefined
      : toEntry(entry);
  }

  async put(key: string, value: Uint8Array): Promise<string> {
    this.#context.lifecycle.check('put a key');
    this.#fits(key, value);
    const revision = await this.#call('put a key', key, () =>
      this.#kv.put(key, value),
    );
    return String(revision);
  }

  async create(key: string, value: Uint8Array): Promise<string> {
    this.#context.lifecycle.check('create a key');
    this.#fits(key, value);
    try {
      return String(await this.#kv.create(key, value));
    } catch (error) {
      if (apiCode(error) !== API_CODES.wrongLastSequence) {
        throw this.#error(error, 'create a key', key);
      }
      throw conflict(
        `key '${key}' already exists in bucket '${this.#bucket}'`,
        undefined,
        foundRevision(error),
        { bucket: this.#bucket, key, providerCode: String(apiCode(error)) },
      );
    }
  }

  async update(
    key: string,
    value: Uint8Array,
    revision: string,
  ): Promise<string> {
    this.#context.lifecycle.check('update a key');
    this.#fits(key, value);
    const expected = parseRevision(revision);
    if (expected === undefined) throw this.#mismatch(key, revision);
    try {
      return String(await this.#kv.update(key, value, expected));
    } catch (error) {
      if (apiCode(error) !== API_CODES.wrongLastSequence) {
        throw this.#error(error, 'update a key', key);
      }
      throw await this.#mismatch(key, revision, error);
    }
  }

  async delete(
    key: string,
    options: { revision?: string } = {},
  ): Promise<void> {
    this.#context.lifecycle.check('delete a key');
    if (options.revision === undefined) {
      // Without a revision only a present key gets a delete marker, so
      // deleting an absent key leaves the bucket and its watches as
      // they are.
      if ((await this.get(key)) === undefined) return;
      await this.#call('delete a key', key, () => this.#kv.delete(key));
      return;
    }

    const expected = parseRevision(options.revision);
    const current = await this.get(key);
    if (expected === undefined || current === undefined) {
      throw await this.#mismatch(key, options.revision);
    }
    try {
      await this.#kv.delete(key, { previousSeq: expected });
    } catch (error) {
      if (apiCode(error) !== API_CODES.wrongLastSequence) {
        throw this.#error(error, 'delete a key', key);
      }
      throw await this.#mismatch(key, options.revision, error);
    }
  }

  async *keys(prefix: string): AsyncIterable<string> {
    this.#context.lifecycle.check('list keys');
    yield* await this.#keys(prefix);
  }

  async *entries(prefix: string): AsyncIterable<RawKvEntry> {
    this.#context.lifecycle.check('list keys');
    const keys = await this.#keys(prefix);
    for (let start = 0; start < keys.length; start += READ_AHEAD) {
      const page = keys.slice(start, start + READ_AHEAD);
      const entries = await Promise.all(page.map((key) => this.get(key)));
      for (const entry of entries) if (entry !== undefined) yield entry;
    }
  }

  watch(options: {
    prefix: string;
    signal?: AbortSignal;
  }): AsyncIterable<RawKvEvent> {
    this.#context.lifecycle.check('watch a bucket');
    return watchKv(this.#context, this.#kv, {
      ...options,
      bucket: this.#bucket,
      onError: (error) => this.#error(error, 'watch a bucket'),
    });
  }

  /**
   * Throws a PayloadTooLargeError, naming both sizes, for a value the
   * server's `max_payload` cannot carry in one message.
   */
  #fits(key: string, value: Uint8Array): void {
    const limit = this.#context.nc.info?.max_payload;
    if (limit === undefined || value.byteLength <= limit) return;
    throw new PayloadTooLargeError(value.byteLength, limit, {
      what: `value of key '${key}'`,
      details: { provider: PROVIDER, bucket: this.#bucket, key },
    });
  }

  /** The keys under `prefix`, sorted; the server lists them unordered. */
  async #keys(prefix: string): Promise<string[]> {
    const keys = await this.#call('list keys', undefined, async () => {
      const found: string[] = [];
      for await (const key of await this.#kv.keys(keyFilter(prefix))) {
        if (key.startsWith(prefix)) found.push(key);
      }
      return found;
    });
    return [...new Set(keys)].sort();
  }

  #call<T>(
    operation: string,
    key: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    return inBucket(this.#ref, operation, key, work);
  }

  #error(error: unknown, operation: string, key?: string) {
    return bucketError(this.#ref, error, operation, key);
  }

  get #ref(): BucketRef {
    return { kind: 'kv-bucket', bucket: this.#bucket };
  }

  /** A ConflictError on `revision`, with the revision found now. */
  async #mismatch(key: string, revision: string, cause?: unknown) {
    const current = await this.get(key).catch(() => undefined);
    const found = current?.revision;
    return conflict(
      `key '${key}' in bucket '${this.#bucket}' is at revision ${found ?? 'absent'}, not ${revision}`,
      revision,
      found,
      {
        bucket: this.#bucket,
        key,
        ...(cause === undefined
          ? {}
          : { providerCode: String(apiCode(cause)) }),
      },
    );
  }
}

/** `revision` as a KV revision, or undefined if it cannot be one. */
function parseRevision(revision: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(revision)) return undefined;
  const value = Number(revision);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The revision a wrong-last-sequence error reports, e.g. `…: 7`. */
function foundRevision(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  const match = /sequence:?\s*(\d+)/.exec(message);
  return match === null || match[1] === '0' ? undefined : match[1];
}
