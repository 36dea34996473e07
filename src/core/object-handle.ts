/**
 * The {@link ObjectBucket} handle: names are validated, bodies of every
 * accepted kind become byte chunks, values go through codecs, and the
 * bucket is opened lazily, once.
 */
import { Readable } from 'node:stream';
import { supports } from './capabilities.ts';
import type { Codec, CodecOption } from './codec.ts';
import { codecForContentType, encodeValue, resolveCodec } from './codecs.ts';
import {
  CapabilityError,
  DecodeError,
  NotFoundError,
  ValidationError,
} from './errors.ts';
import { afterOpen, concatBytes } from './iterables.ts';
import { lazy } from './lazy.ts';
import { assertName, assertObjectName } from './names.ts';
import type {
  ObjectBody,
  ObjectBucket,
  ObjectBucketOptions,
  ObjectInfo,
  ObjectPutOptions,
} from './objects.ts';
import type { ObjectStore } from './provider.ts';
import type { Runtime } from './runtime.ts';

const TEXT_TYPE = 'text/plain; charset=utf-8';
const BYTES_TYPE = 'application/octet-stream';
const utf8 = new TextEncoder();

/**
 * Makes the handle of object bucket `name`. Throws at once a
 * `ValidationError` for a bad name and a `ConfigurationError` for a
 * provider without object buckets. With `create: false`, a missing bucket
 * is a `NotFoundError` on first use.
 *
 * A `put` without a content type stores `text/plain; charset=utf-8` for a
 * string and `application/octet-stream` for anything else. `ifAbsent` and
 * `ifEtag` on a provider without `conditionalObjects` are a
 * `CapabilityError`.
 */
export function createObjectHandle(
  runtime: Runtime,
  name: string,
  options: ObjectBucketOptions = {},
): ObjectBucket {
  assertName('bucket', name);
  const transport = runtime.transport('objects');
  const capabilities = runtime.capabilities('objects');
  const providerName = runtime.provider('objects').name;
  const open = lazy(() =>
    transport.open(name, { create: options.create ?? true }),
  );
  const store = async (): Promise<ObjectStore> => {
    runtime.assertOpen();
    return open();
  };
  const checkConditions = (conditions: {
    ifAbsent?: boolean;
    ifEtag?: string;
  }): void => {
    if (
      (conditions.ifAbsent || conditions.ifEtag !== undefined) &&
      !supports(capabilities, 'conditionalObjects')
    ) {
      throw new CapabilityError(
        `conditional object writes are not supported by provider '${providerName}': ${capabilities.unsupported.conditionalObjects}`,
        { feature: 'conditionalObjects', details: { bucket: name } },
      );
    }
  };
  const read = async (object: string) => {
    assertObjectName(object);
    const found = await (await store()).get(object);
    if (found === undefined) {
      throw new NotFoundError('object', `${name}/${object}`, {
        details: { bucket: name, key: object },
      });
    }
    return found;
  };

  const bucket: ObjectBucket = {
    name,
    async put(object, body, putOptions = {}) {
      assertObjectName(object);
      checkConditions(putOptions);
      const contentType =
        putOptions.contentType ??
        (typeof body === 'string' ? TEXT_TYPE : BYTES_TYPE);
      const content = toContent(body);

      return (await store()).put(object, content, {
        ...putOptions,
        contentType,
      });
    },
    async get(object) {
      const { body } = await read(object);
      return concatBytes(body);
    },
    async getStream(object) {
      const { body } = await read(object);
      return Readable.from(body, { objectMode: false });
    },
    async putValue<T>(
      object: string,
      value: T,
      putOptions: ObjectPutOptions & { codec?: CodecOption<T> } = {},
    ): Promise<ObjectInfo> {
      const { codec: option, ...rest } = putOptions;
      const codec = resolveCodec(option, 'putValue.codec');
      const bytes = encodeValue(codec, value);

      return bucket.put(object, bytes, {
        ...rest,
        contentType: rest.contentType ?? codec.contentType,
      });
    },
    async getValue<T>(
      object: string,
      getOptions: { codec?: Codec<T> | CodecOption<T> } = {},
    ): Promise<T> {
      const { info, body } = await read(object);
      const bytes = await concatBytes(body);
      const codec =
        getOptions.codec === undefined
          ? codecForContentType<T>(info.contentType)
          : resolveCodec(getOptions.codec, 'getValue.codec');

      try {
        return codec.decode(bytes);
      } catch (cause) {
        throw new DecodeError(
          `object '${object}' in bucket '${name}' could not be decoded with codec '${codec.name}': ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause, details: { bucket: name, key: object } },
        );
      }
    },
    async head(object) {
      assertObjectName(object);
      return (await store()).head(object);
    },
    list(prefix = '') {
      if (typeof prefix !== 'string' || prefix.length > 1024) {
        throw new ValidationError(
          `object prefix must be a string of at most 1024 characters, got ${JSON.stringify(prefix)}`,
          { field: 'prefix', value: prefix },
        );
      }
      return afterOpen(store, (s) => s.list(prefix));
    },
    async delete(object, deleteOptions = {}) {
      assertObjectName(object);
      checkConditions(deleteOptions);
      return (await store()).delete(object, deleteOptions);
    },
  };

  return bucket;
}

/** Any accepted body as bytes or a stream of byte chunks. */
function toContent(body: ObjectBody): Uint8Array | AsyncIterable<Uint8Array> {
  if (typeof body === 'string') return utf8.encode(body);
  if (body instanceof Uint8Array) return body;
  if (
    body !== null &&
    typeof body === 'object' &&
    Symbol.asyncIterator in body
  ) {
    return chunks(body as AsyncIterable<unknown>);
  }
  throw new ValidationError(
    'object body must be a Uint8Array, a string, a Readable or an async iterable of Uint8Array',
    { field: 'body', value: typeof body },
  );
}

/** Byte chunks of a stream, refusing anything that is not bytes or text. */
async function* chunks(
  source: AsyncIterable<unknown>,
): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield utf8.encode(chunk);
    else {
      throw new ValidationError(
        `object body stream yielded ${typeof chunk} instead of bytes`,
        { field: 'body', value: typeof chunk },
      );
    }
  }
}
