/**
 * One object bucket on S3: an object is an S3 object of the same key,
 * its content type the object's `Content-Type` and its metadata the
 * object's user metadata (`x-amz-meta-*`).
 *
 * A body of up to 8 MiB given as bytes goes in one PutObject; a larger
 * one, or any stream, in a multipart upload of 8 MiB parts, which S3
 * makes visible only once it completes, so a reader sees the old object
 * or the new one, never a part.
 *
 * The etag is S3's ETag without its quotes. S3 derives it from the
 * content, so two writes of the same bytes in the same way share an
 * etag, and a conditional write on it cannot tell them apart.
 *
 * Conditional writes are S3's own: `ifAbsent` sends `If-None-Match: *`
 * and `ifEtag` sends `If-Match`, on PutObject, on the completion of a
 * multipart upload and on DeleteObject, and S3 refuses a write whose
 * condition fails (412, or 404 for `If-Match` on an absent object). A
 * multipart upload sends its whole body before S3 checks the condition,
 * so the condition is also checked before the first part, to spare a
 * body bound to be refused.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ConflictError } from '../../core/errors.ts';
import type {
  ObjectInfo,
  ObjectPutOptions,
  ObjectStore,
} from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import {
  awsCode,
  awsError,
  conflict,
  isConflict,
  isMissing,
  notFound,
} from './errors.ts';
import {
  DEFAULT_CONTENT_TYPE,
  quoted,
  s3Metadata,
  toInfo,
  unquoted,
} from './s3-mapping.ts';

/** Size of one part of a multipart upload, and the most one PutObject sends. */
export const PART_SIZE = 8 * 1024 * 1024;

/** Parts of one upload in flight at once: memory is this many parts. */
const UPLOAD_QUEUE = 4;

/** HeadObject calls in flight at once while listing. */
const HEAD_CONCURRENCY = 8;

/** Attempts of an unconditional delete that races other writers. */
const DELETE_ATTEMPTS = 5;

/** The conditions of a write or delete. */
interface Conditions {
  ifAbsent?: boolean;
  ifEtag?: string;
}

/**
 * One S3 bucket. `list` asks S3 for `pageSize` keys at a time and then
 * reads each object's metadata with a HeadObject, since S3's listing
 * carries neither content type nor metadata.
 */
export class AwsObjectStore implements ObjectStore {
  readonly #context: AwsContext;
  readonly #bucket: string;
  readonly #s3Bucket: string;
  readonly #pageSize: number;

  constructor(
    context: AwsContext,
    bucket: string,
    s3Bucket: string,
    pageSize: number,
  ) {
    this.#context = context;
    this.#bucket = bucket;
    this.#s3Bucket = s3Bucket;
    this.#pageSize = pageSize;
  }

  async put(
    name: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: ObjectPutOptions,
  ): Promise<ObjectInfo> {
    this.#context.lifecycle.check('write an object');
    const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
    const metadata = s3Metadata(options.metadata);
    const params: PutObjectCommandInput = {
      Bucket: this.#s3Bucket,
      Key: name,
      ContentType: contentType,
      Metadata: metadata,
      ...(options.ifAbsent === true && { IfNoneMatch: '*' }),
      ...(options.ifEtag !== undefined && { IfMatch: quoted(options.ifEtag) }),
    };
    const conditional =
      options.ifAbsent === true || options.ifEtag !== undefined;

    let written: { etag: string | undefined; size: number };
    try {
      if (body instanceof Uint8Array && body.byteLength <= PART_SIZE) {
        written = await this.#putWhole(params, body);
      } else {
        if (conditional) await this.#check(name, options);
        written = await this.#upload(params, body);
      }
    } catch (error) {
      if (conditional && isRefused(error)) {
        throw await this.#lost(name, options, error);
      }
      throw this.#error(error, 'write an object', name);
    }

    return {
      name,
      size: written.size,
      etag: unquoted(written.etag),
      contentType,
      metadata: { ...metadata },
      // S3 reports no time for a write; head() gives its LastModified.
      updatedAt: Date.now(),
    };
  }

  async get(
    name: string,
  ): Promise<
    { info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined
  > {
    this.#context.lifecycle.check('read an object');
    let object: GetObjectCommandOutput;
    try {
      object = await this.#context.s3.send(
        new GetObjectCommand({ Bucket: this.#s3Bucket, Key: name }),
      );
    } catch (error) {
      if (awsCode(error) === 'NoSuchKey') return undefined;
      throw this.#error(error, 'read an object', name);
    }

    const source = object.Body as AsyncIterable<Uint8Array> | undefined;
    const fail = (error: unknown) => this.#error(error, 'read an object', name);
    async function* body(): AsyncGenerator<Uint8Array> {
      if (source === undefined) return;
      try {
        for await (const chunk of source) {
          if (chunk.byteLength > 0) yield chunk;
        }
      } catch (error) {
        throw fail(error);
      }
    }
    return { info: toInfo(name, object), body: body() };
  }

  async head(name: string): Promise<ObjectInfo | undefined> {
    this.#context.lifecycle.check('read an object');
    try {
      const head = await this.#context.s3.send(
        new HeadObjectCommand({ Bucket: this.#s3Bucket, Key: name }),
      );
      return toInfo(name, head);
    } catch (error) {
      // A HEAD answer has no body: a 404 is the same for a missing
      // object and a missing bucket, so ask about the bucket.
      if (isMissing(error) && !(await this.#bucketGone())) return undefined;
      throw this.#error(error, 'read an object', name);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.#context.lifecycle.check('list objects');
    let token: string | undefined;
    do {
      const page = await this.#call('list objects', () =>
        this.#context.s3.send(
          new ListObjectsV2Command({
            Bucket: this.#s3Bucket,
            Prefix: prefix === '' ? undefined : prefix,
            MaxKeys: this.#pageSize,
            ContinuationToken: token,
          }),
        ),
      );
      const names = (page.Contents ?? []).flatMap((entry) =>
        entry.Key === undefined ? [] : [entry.Key],
      );
      // S3 lists keys in ascending UTF-8 order; an object deleted since
      // the page was read is left out.
      const infos = await mapLimited(names, HEAD_CONCURRENCY, (name) =>
        this.head(name),
      );
      for (const info of infos) if (info !== undefined) yield info;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(name: string, options: Conditions = {}): Promise<boolean> {
    this.#context.lifecycle.check('delete an object');
    if (options.ifEtag !== undefined) {
      try {
        await this.#deleteIfMatch(name, options.ifEtag);
        return true;
      } catch (error) {
        if (isRefused(error)) throw await this.#lost(name, options, error);
        throw this.#error(error, 'delete an object', name);
      }
    }

    // Deleting on the etag just read tells whether this delete removed
    // the object, which an unconditional DeleteObject does not say.
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.head(name);
      if (current === undefined) return false;
      try {
        await this.#deleteIfMatch(name, current.etag);
        return true;
      } catch (error) {
        if (awsCode(error) === 'NoSuchKey') return false;
        if (!isConflict(error) || attempt >= DELETE_ATTEMPTS) {
          throw this.#error(error, 'delete an object', name);
        }
      }
    }
  }

  async #putWhole(
    params: PutObjectCommandInput,
    body: Uint8Array,
  ): Promise<{ etag: string | undefined; size: number }> {
    const output = await this.#context.s3.send(
      new PutObjectCommand({
        ...params,
        Body: body,
        ContentLength: body.byteLength,
      }),
    );
    return { etag: output.ETag, size: body.byteLength };
  }

  async #upload(
    params: PutObjectCommandInput,
    body: Uint8Array | AsyncIterable<Uint8Array>,
  ): Promise<{ etag: string | undefined; size: number }> {
    const counter = { bytes: 0 };
    const data =
      body instanceof Uint8Array ? body : Readable.from(counted(body, counter));
    const upload = new Upload({
      client: this.#context.s3,
      params: { ...params, Body: data },
      partSize: PART_SIZE,
      queueSize: UPLOAD_QUEUE,
    });

    const output = await upload.done();
    const size = body instanceof Uint8Array ? body.byteLength : counter.bytes;
    return { etag: output.ETag, size };
  }

  async #deleteIfMatch(name: string, etag: string): Promise<void> {
    await this.#context.s3.send(
      new DeleteObjectCommand({
        Bucket: this.#s3Bucket,
        Key: name,
        IfMatch: quoted(etag),
      }),
    );
  }

  /** Throws the conflict of `conditions` if the object breaks them now. */
  async #check(name: string, conditions: Conditions): Promise<void> {
    const current = await this.head(name);
    const etag = current?.etag;
    const broken =
      (conditions.ifAbsent === true && etag !== undefined) ||
      (conditions.ifEtag !== undefined && etag !== conditions.ifEtag);
    if (broken) throw this.#conflict(name, conditions, etag);
  }

  /** The conflict of a conditional write S3 refused with `error`. */
  async #lost(
    name: string,
    conditions: Conditions,
    error: unknown,
  ): Promise<ConflictError> {
    const current = await this.head(name).catch(() => undefined);
    return this.#conflict(name, conditions, current?.etag, awsCode(error));
  }

  #conflict(
    name: string,
    conditions: Conditions,
    etag: string | undefined,
    providerCode?: string,
  ): ConflictError {
    const details = {
      bucket: this.#bucket,
      key: name,
      ...(providerCode !== undefined && { providerCode }),
    };
    if (conditions.ifAbsent === true && etag !== undefined) {
      return conflict(
        `object '${name}' already exists in bucket '${this.#bucket}'`,
        undefined,
        etag,
        details,
      );
    }
    return conflict(
      `object '${name}' in bucket '${this.#bucket}' has etag ${etag ?? 'none (absent)'}, not ${conditions.ifEtag ?? 'none (absent)'}`,
      conditions.ifEtag,
      etag,
      details,
    );
  }

  /** Whether the bucket is gone, for a 404 that does not say what is. */
  async #bucketGone(): Promise<boolean> {
    try {
      await this.#context.s3.send(
        new HeadBucketCommand({ Bucket: this.#s3Bucket }),
      );
      return false;
    } catch (error) {
      if (isMissing(error)) return true;
      throw this.#error(error, 'read a bucket');
    }
  }

  async #call<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#error(error, operation);
    }
  }

  #error(error: unknown, operation: string, name?: string) {
    if (awsCode(error) === 'NoSuchKey' || awsCode(error) === 'NotFound') {
      // Only a missing bucket reaches here as a 404: absent objects are
      // answered before.
      return notFound('object-bucket', this.#bucket, {
        bucket: this.#bucket,
        ...(name !== undefined && { key: name }),
      });
    }
    return awsError(error, `${operation} in bucket '${this.#bucket}'`, {
      details: {
        bucket: this.#bucket,
        ...(name !== undefined && { key: name }),
      },
      notFound: { kind: 'object-bucket', resource: this.#bucket },
    });
  }
}

/** Whether S3 refused a conditional write: a failed condition, or absent. */
function isRefused(error: unknown): boolean {
  return isConflict(error) || awsCode(error) === 'NoSuchKey';
}

/** The chunks of `source`, adding their sizes to `counter`. */
async function* counted(
  source: AsyncIterable<Uint8Array>,
  counter: { bytes: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    counter.bytes += chunk.byteLength;
    yield chunk;
  }
}

/** `work` on every item, at most `limit` at once, results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  return results;
}
