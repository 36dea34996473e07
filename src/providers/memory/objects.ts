/** Object buckets of the memory provider. */
import { concatBytes } from '../../core/iterables.ts';
import type {
  ObjectInfo,
  ObjectPutOptions,
  ObjectStore,
  ObjectTransport,
} from '../../core/provider.ts';
import { conflict, type Lifecycle, notFound } from './support.ts';

/** Size of the chunks an object's content is read back in. */
const CHUNK_BYTES = 64 * 1024;

interface StoredObject {
  info: ObjectInfo;
  content: Uint8Array;
}

/** One object bucket, shared by the provider instances of a namespace. */
export class ObjectBucketState {
  readonly objects = new Map<string, StoredObject>();
}

/**
 * Counts writes in the process, so that every write gets a new etag, even
 * in a bucket deleted and created again.
 */
let writes = 0;

/**
 * Creates the object transport of one provider instance. Deleting an
 * absent bucket does nothing; deleting an absent object returns false,
 * whatever `ifEtag` says.
 */
export function createMemoryObjects(
  buckets: Map<string, ObjectBucketState>,
  lifecycle: Lifecycle,
): ObjectTransport {
  return {
    async open(
      bucket: string,
      options: { create: boolean },
    ): Promise<ObjectStore> {
      lifecycle.check('open an object bucket');
      if (!buckets.has(bucket)) {
        if (!options.create) {
          throw notFound('object-bucket', bucket, { bucket });
        }
        buckets.set(bucket, new ObjectBucketState());
      }

      return createStore(bucket, buckets, lifecycle);
    },

    async list(): Promise<string[]> {
      lifecycle.check('list object buckets');
      return [...buckets.keys()].sort();
    },

    async delete(bucket: string): Promise<void> {
      lifecycle.check('delete an object bucket');
      buckets.delete(bucket);
    },
  };
}

/**
 * A handle on a bucket, looking it up on every call. A write reads the
 * whole body first and checks its condition only then, at the moment it
 * replaces the object, so readers see the old content or the new one.
 */
function createStore(
  name: string,
  buckets: Map<string, ObjectBucketState>,
  lifecycle: Lifecycle,
): ObjectStore {
  const bucket = (operation: string): ObjectBucketState => {
    lifecycle.check(operation);
    const state = buckets.get(name);
    if (state === undefined) {
      throw notFound('object-bucket', name, { bucket: name });
    }
    return state;
  };

  return {
    async put(
      object: string,
      body: Uint8Array | AsyncIterable<Uint8Array>,
      options: ObjectPutOptions,
    ): Promise<ObjectInfo> {
      bucket('write an object');
      const content = await readAll(body);
      const state = bucket('write an object');
      const current = state.objects.get(object);
      const details = { bucket: name, key: object };
      if (options.ifAbsent === true && current !== undefined) {
        throw conflict(
          `object '${object}' already exists in bucket '${name}'`,
          undefined,
          current.info.etag,
          details,
        );
      }
      if (
        options.ifEtag !== undefined &&
        current?.info.etag !== options.ifEtag
      ) {
        throw conflict(
          `object '${object}' of bucket '${name}' does not have etag ${options.ifEtag}`,
          options.ifEtag,
          current?.info.etag,
          details,
        );
      }

      writes += 1;
      const info: ObjectInfo = {
        name: object,
        size: content.byteLength,
        etag: `"${writes.toString(16).padStart(8, '0')}"`,
        contentType: options.contentType ?? 'application/octet-stream',
        metadata: { ...options.metadata },
        updatedAt: Date.now(),
      };
      state.objects.set(object, { info, content });

      return copyInfo(info);
    },

    async get(object: string) {
      const stored = bucket('read an object').objects.get(object);
      if (stored === undefined) return undefined;

      return { info: copyInfo(stored.info), body: chunks(stored.content) };
    },

    async head(object: string): Promise<ObjectInfo | undefined> {
      const stored = bucket('read an object').objects.get(object);
      return stored === undefined ? undefined : copyInfo(stored.info);
    },

    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      const state = bucket('list objects');
      const names = [...state.objects.keys()]
        .filter((object) => object.startsWith(prefix))
        .sort();
      for (const object of names) {
        const stored = state.objects.get(object);
        if (stored !== undefined) yield copyInfo(stored.info);
      }
    },

    async delete(
      object: string,
      options: { ifEtag?: string } = {},
    ): Promise<boolean> {
      const state = bucket('delete an object');
      const current = state.objects.get(object);
      if (current === undefined) return false;
      if (
        options.ifEtag !== undefined &&
        current.info.etag !== options.ifEtag
      ) {
        throw conflict(
          `object '${object}' of bucket '${name}' does not have etag ${options.ifEtag}`,
          options.ifEtag,
          current.info.etag,
          { bucket: name, key: object },
        );
      }
      state.objects.delete(object);

      return true;
    },
  };
}

async function readAll(
  body: Uint8Array | AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body.slice();
  return concatBytes(body);
}

/** The content in chunks, each a copy; none for empty content. */
async function* chunks(content: Uint8Array): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < content.byteLength; offset += CHUNK_BYTES) {
    yield content.slice(offset, offset + CHUNK_BYTES);
  }
}

function copyInfo(info: ObjectInfo): ObjectInfo {
  return { ...info, metadata: { ...info.metadata } };
}
