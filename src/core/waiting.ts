/** Waiting for work with a deadline. */

/**
 * Waits for `work` (one promise or several) to settle, fulfilled or
 * rejected, for up to `timeoutMs`; returns whether it did. Never rejects
 * and leaves no timer behind.
 *
 * @example
 * if (!(await settledWithin(running, 5_000))) abortHandlers();
 */
export async function settledWithin(
  work: Promise<unknown> | readonly Promise<unknown>[] | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const all = work === undefined ? [] : Array.isArray(work) ? work : [work];
  if (all.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const settled = Promise.allSettled(all).then(() => true as const);

  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
