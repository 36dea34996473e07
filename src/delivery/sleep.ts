/**
 * Waits `ms`, or less when `signal` aborts. Resolves in both cases, never
 * rejects, and leaves no timer behind.
 *
 * @example
 * await sleep(backoffDelay(failures, backoff), stopping.signal);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
