/**
 * Object buckets on the JetStream object store: a bucket is the stream
 * `OBJ_{bucket}`, an object its chunks under `$O.{bucket}.C.{nuid}` and
 * one metadata message under `$O.{bucket}.M.{name}`. A put sends the
 * chunks first and the metadata last, so a reader sees the old object
 * or the new one, never a part; the chunks of the replaced object are
 * purged after.
 *
 * The etag is the write's nuid, new on every write even of the same
 * bytes. The content type travels as the object's `Content-Type` header
 * and the metadata as the object's metadata.
 *
 * Conditional writes (`ifAbsent`, `ifEtag`, delete on `ifEtag`) use the
 * server's compare-and-swap on the metadata message: the write carries
 * the revision (stream sequence) of the metadata it expects, and the
 * server refuses it if another write came in between. The condition is
 * checked before the body is sent, to spare a write bound to fail; a put
 * that loses a race after that has sent its whole body, whose chunks are
 * then purged.
 */
import {
  Base64UrlPaddedCodec,
  type ObjectInfo as NatsObjectInfo,
  type ObjectStore as NatsObjectStore,
  Objm,
} from '@nats-io/obj';
import { headers } from '@nats-io/transport-node';
import type {
  ObjectInfo,
  ObjectPutOptions,
  ObjectStore,
  ObjectTransport,
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
} from './errors.ts';
import { deleteStream, listUserBuckets } from './kv.ts';
import { objectBucket } from './names.ts';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const CONTENT_TYPE = 'Content-Type';

/** The object buckets of one NATS account. */
export class NatsObjects implements ObjectTransport {
  readonly #context: NatsContext;
  readonly #objm: Objm;

  constructor(context: NatsContext) {
    this.#context = context;
    this.#objm = new Objm(context.js);
  }

  async open(
    bucket: string,
    options: { create: boolean },
  ): Promise<ObjectStore> {
    this.#context.lifecycle.check('open an object bucket');
    const name = objectBucket(this.#context.options, bucket);

    let store: NatsObjectStore;
    try {
      if (options.create) {
        store = await this.#objm.create(name);
      } else {
        await this.#context.jsm.streams.info(streamOf(name));
        store = await this.#objm.open(name, false);
      }
    } catch (error) {
      throw natsError(error, `open object bucket '${bucket}'`, {
        details: { bucket },
        notFound: { kind: 'object-bucket', resource: bucket },
      });
    }
    return new NatsObjectBucket(this.#context, store, bucket, name);
  }

  list(): Promise<string[]> {
    return listUserBuckets(
      this.#context,
      () => this.#objm.list(),
      'list object buckets',
    );
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete an object bucket');
    await deleteStream(
      this.#context,
      streamOf(objectBucket(this.#context.options, bucket)),
      'delete an object bucket',
    );
  }
}

/**
 * One object bucket. The body `get` returns streams the object's chunks
 * from the server as it is read; a read that races a replace of the
 * same object may fail with an error, never end with part of a body.
 */
class NatsObjectBucket implements ObjectStore {
  readonly #context: NatsContext;
  readonly #store: NatsObjectStore;
  readonly #bucket: string;
  readonly #name: string;

  constructor(
    context: NatsContext,
    store: NatsObjectStore,
    bucket: string,
    name: string,
  ) {
    this.#context = context;
    this.#store = store;
    this.#bucket = bucket;
    this.#name = name;
  }

  async put(
    name: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: ObjectPutOptions,
  ): Promise<ObjectInfo> {
    this.#context.lifecycle.check('write an object');
    const conditional =
      options.ifAbsent === true || options.ifEtag !== undefined;
    const current = conditional ? await this.#raw(name) : undefined;
    if (conditional) this.#check(name, options, current);

    const meta = {
      name,
      headers: headers(),
      metadata: { ...(options.metadata ?? {}) },
    };
    meta.headers.set(CONTENT_TYPE, options.contentType ?? DEFAULT_CONTENT_TYPE);
    const previousRevision = conditional ? (current?.revision ?? 0) : undefined;
    const put = previousRevision === undefined ? {} : { previousRevision };

    try {
      const info =
        body instanceof Uint8Array
          ? await this.#store.putBlob(meta, body, put)
          : await this.#store.put(meta, ReadableStream.from(body), put);
      return toInfo(info);
    } catch (error) {
      if (apiCode(error) === API_CODES.wrongLastSequence) {
        throw await this.#lost(name, options);
      }
      throw this.#error(error, 'write an object', name);
    }
  }

  async get(
    name: string,
  ): Promise<
    { info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined
  > {
    this.#context.lifecycle.check('read an object');
    const result = await this.#call('read an object', name, () =>
      this.#store.get(name),
    );
    if (result === null) return undefined;

    const read = this.#error.bind(this);
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of result!.data) {
          if (chunk.byteLength > 0) yield chunk;
        }
        // The client resolves this with null or undefined on success.
        const failure = await result!.error;
        if (failure) throw failure;
      } catch (error) {
        throw read(error, 'read an object', name);
      }
    }
    return { info: toInfo(result.info), body: body() };
  }

  async head(name: string): Promise<ObjectInfo | undefined> {
    this.#context.lifecycle.check('read an object');
    const info = await this.#raw(name);
    return info === undefined || info.deleted ? undefined : toInfo(info);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.#context.lifecycle.check('list objects');
    const all = await this.#call('list objects', undefined, () =>
      this.#store.list(),
    );
    const infos = all
      .filter((info) => !info.deleted && info.name.startsWith(prefix))
      .map(toInfo)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    yield* infos;
  }

  async delete(
    name: string,
    options: { ifEtag?: string } = {},
  ): Promise<boolean> {
    this.#context.lifecycle.check('delete an object');
    const current = await this.#raw(name);
    const live = current !== undefined && !current.deleted;
    if (options.ifEtag !== undefined) {
      this.#check(name, { ifEtag: options.ifEtag }, current);
    }
    if (!live) return false;

    // The metadata of a deleted object, written on the revision read so
    // that a write in between makes the delete a conflict.
    const tombstone = {
      name: current.name,
      bucket: this.#name,
      nuid: current.nuid,
      size: 0,
      chunks: 0,
      digest: '',
      deleted: true,
      mtime: new Date().toISOString(),
      options: current.options,
      headers:
        current.headers === undefined
          ? undefined
          : Object.fromEntries([...current.headers]),
      metadata: current.metadata,
    };
    const mark = headers();
    mark.set('Nats-Rollup', 'sub');
    mark.set('Nats-Expected-Last-Subject-Sequence', String(current.revision));
    try {
      await this.#context.js.publish(
        `$O.${this.#name}.M.${Base64UrlPaddedCodec.encode(name)}`,
        JSON.stringify(tombstone),
        { headers: mark },
      );
    } catch (error) {
      if (apiCode(error) === API_CODES.wrongLastSequence) {
        throw await this.#lost(name, options);
      }
      throw this.#error(error, 'delete an object', name);
    }
    await this.#context.jsm.streams
      .purge(streamOf(this.#name), {
        filter: `$O.${this.#name}.C.${current.nuid}`,
      })
      .catch(() => {});
    return true;
  }

  /** The object's metadata as stored, deleted ones included. */
  async #raw(name: string): Promise<NatsObjectInfo | undefined> {
    const info = await this.#call('read an object', name, () =>
      this.#store.info(name),
    );
    return info ?? undefined;
  }

  #check(
    name: string,
    options: { ifAbsent?: boolean; ifEtag?: string },
    current: NatsObjectInfo | undefined,
  ): void {
    const etag =
      current === undefined || current.deleted ? undefined : current.nuid;
    const details = { bucket: this.#bucket, key: name };
    if (options.ifAbsent && etag !== undefined) {
      throw conflict(
        `object '${name}' already exists in bucket '${this.#bucket}'`,
        undefined,
        etag,
        details,
      );
    }
    if (options.ifEtag !== undefined && etag !== options.ifEtag) {
      throw conflict(
        `object '${name}' in bucket '${this.#bucket}' has etag ${etag ?? 'none (absent)'}, not ${options.ifEtag}`,
        options.ifEtag,
        etag,
        details,
      );
    }
  }

  /** The conflict of a conditional write that another write beat. */
  async #lost(name: string, options: { ifAbsent?: boolean; ifEtag?: string }) {
    const current = await this.#raw(name).catch(() => undefined);
    const etag =
      current === undefined || current.deleted ? undefined : current.nuid;
    return conflict(
      `object '${name}' in bucket '${this.#bucket}' changed during a conditional write: etag is ${etag ?? 'none (absent)'}`,
      options.ifEtag,
      etag,
      {
        bucket: this.#bucket,
        key: name,
        providerCode: String(API_CODES.wrongLastSequence),
      },
    );
  }

  #call<T>(
    operation: string,
    name: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    return inBucket(this.#ref, operation, name, work);
  }

  #error(error: unknown, operation: string, name?: string) {
    return bucketError(this.#ref, error, operation, name);
  }

  get #ref(): BucketRef {
    return { kind: 'object-bucket', bucket: this.#bucket };
  }
}

/** The stream of object store bucket `name`. */
function streamOf(name: string): string {
  return `OBJ_${name}`;
}

function toInfo(info: NatsObjectInfo): ObjectInfo {
  return {
    name: info.name,
    size: info.size,
    etag: info.nuid,
    contentType: contentTypeOf(info) ?? DEFAULT_CONTENT_TYPE,
    metadata: { ...(info.metadata ?? {}) },
    updatedAt: Date.parse(info.mtime),
  };
}

/**
 * The content type an object's headers hold. The client gives headers
 * as a header object from `info()` and `get()`, and as the stored record
 * of values from `list()`.
 */
function contentTypeOf(info: NatsObjectInfo): string | undefined {
  const stored = info.headers as unknown;
  if (stored === undefined || stored === null) return undefined;
  if (typeof (stored as { get?: unknown }).get === 'function') {
    return (
      (stored as { get(name: string): string }).get(CONTENT_TYPE) || undefined
    );
  }
  const values = (stored as Record<string, string[] | undefined>)[CONTENT_TYPE];
  return values?.[0];
}
