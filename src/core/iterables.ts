/**
 * Small helpers over async iterables, shared by the bucket handles and
 * the providers.
 */

/**
 * An iterable over what `list` yields once `open` resolved, so that a
 * method returning an iterable synchronously can open its store lazily.
 */
export function afterOpen<S, V>(
  open: () => Promise<S>,
  list: (store: S) => AsyncIterable<V>,
): AsyncIterable<V> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* list(await open());
    },
  };
}

/** `source` with `map` applied to each value. */
export function mapIterable<A, B>(
  source: AsyncIterable<A>,
  map: (value: A) => B,
): AsyncIterable<B> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const value of source) yield map(value);
    },
  };
}

/**
 * Every chunk of `body` joined into one array. Each chunk is copied as
 * it arrives, so a producer may reuse its buffer between chunks.
 */
export async function concatBytes(
  body: AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of body) {
    parts.push(part.slice());
    size += part.byteLength;
  }

  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
