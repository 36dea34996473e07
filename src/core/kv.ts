/** Key-value buckets as an application uses them. */
import type { CodecOption } from './codec.ts';

/** Options of a key-value bucket handle. */
export interface KvOptions<T> {
  /** Codec of the values. Default `json`. */
  codec?: CodecOption<T>;
  /** Entries expire this long after their last write, in ms. */
  ttlMs?: number;
  /** Create the bucket if absent. Default true. */
  create?: boolean;
}

/** An entry with its value decoded. */
export interface KvEntry<T> {
  key: string;
  value: T;
  /** Opaque revision, for `update` and `delete`. */
  revision: string;
  updatedAt: Date;
}

/** An event of a watch. */
export type KvEvent<T> =
  /** First event: the entries that exist when the watch starts. */
  | { type: 'snapshot'; entries: KvEntry<T>[] }
  | { type: 'put'; entry: KvEntry<T> }
  | { type: 'delete'; key: string; revision?: string };

/** A key-value bucket. */
export interface KvBucket<T> {
  readonly name: string;
  get(key: string): Promise<KvEntry<T> | undefined>;
  /** Writes unconditionally; resolves with the new revision. */
  put(key: string, value: T): Promise<string>;
  /** Writes only if absent; ConflictError if the key exists. */
  create(key: string, value: T): Promise<string>;
  /**
   * Compare-and-swap: writes only if the current revision is `revision`;
   * ConflictError with the expected and actual revisions otherwise.
   */
  update(key: string, value: T, revision: string): Promise<string>;
  /** Deletes; with `revision`, only if current (ConflictError otherwise). */
  delete(key: string, options?: { revision?: string }): Promise<void>;
  keys(prefix?: string): AsyncIterable<string>;
  entries(prefix?: string): AsyncIterable<KvEntry<T>>;
  /** A snapshot event, then puts and deletes in write order. */
  watch(options?: {
    prefix?: string;
    signal?: AbortSignal;
  }): AsyncIterable<KvEvent<T>>;
}
