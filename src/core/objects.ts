/** Object buckets as an application uses them. */
import type { Readable } from 'node:stream';
import type { Codec, CodecOption } from './codec.ts';
import type { ObjectInfo, ObjectPutOptions } from './provider.ts';

export type { ObjectInfo, ObjectPutOptions };

/** Options of an object bucket handle. */
export interface ObjectBucketOptions {
  /** Create the bucket if absent. Default true. */
  create?: boolean;
}

/** What `put` accepts as content. */
export type ObjectBody =
  | Uint8Array
  | string
  | Readable
  | AsyncIterable<Uint8Array>;

/** An object bucket. */
export interface ObjectBucket {
  readonly name: string;
  /** Writes an object whole. ConflictError when a condition fails. */
  put(
    name: string,
    body: ObjectBody,
    options?: ObjectPutOptions,
  ): Promise<ObjectInfo>;
  /** The content; NotFoundError if absent. */
  get(name: string): Promise<Uint8Array>;
  /** The content as a stream; NotFoundError if absent. */
  getStream(name: string): Promise<Readable>;
  /** Encodes `value` with `codec` (default JSON) and writes it. */
  putValue<T>(
    name: string,
    value: T,
    options?: ObjectPutOptions & { codec?: CodecOption<T> },
  ): Promise<ObjectInfo>;
  /** Reads and decodes; NotFoundError if absent. */
  getValue<T>(
    name: string,
    options?: { codec?: Codec<T> | CodecOption<T> },
  ): Promise<T>;
  head(name: string): Promise<ObjectInfo | undefined>;
  list(prefix?: string): AsyncIterable<ObjectInfo>;
  /** Returns whether the object existed. */
  delete(name: string, options?: { ifEtag?: string }): Promise<boolean>;
}
