/**
 * A value made once, on first use, by an async step such as creating a
 * channel or opening a bucket. Callers that arrive while it is being made
 * share the same attempt; a failed attempt is forgotten so that the next
 * call tries again (a transport that was down may be back).
 *
 * @example
 * const bucket = lazy(() => transport.open('router-index', { create: true }));
 * await bucket(); // opens
 * await bucket(); // the same store, not opened again
 */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;

  return () => {
    if (pending === undefined) {
      const attempt = make();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
