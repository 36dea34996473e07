/** Small helpers over async iterables, shared by the bucket handles. */

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
