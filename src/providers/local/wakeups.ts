/**
 * Waking waiters: a consumer waiting for messages or a watch waiting for
 * changes sleeps until this process writes to what it waits on, or until
 * its next look at the database (other processes cannot wake it).
 */

/** Shortest pause between two looks at the database, in ms. */
export const MIN_POLL_MS = 2;

/**
 * Waiters grouped by topic (a channel, a bucket). One per provider
 * instance: a write by this instance wakes its own waiters at once.
 */
export class Wakeups {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Wakes everyone waiting on `topic`. */
  notify(topic: string): void {
    const waiters = this.#waiters.get(topic);
    if (waiters === undefined) return;
    this.#waiters.delete(topic);
    for (const wake of waiters) wake();
  }

  /** Wakes every waiter of every topic, as on close. */
  notifyAll(): void {
    for (const topic of [...this.#waiters.keys()]) this.notify(topic);
  }

  /**
   * Resolves after `ms`, when `topic` is notified, or when `signal`
   * aborts, whichever comes first. Never rejects.
   */
  wait(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();

    return new Promise((resolve) => {
      let waiters = this.#waiters.get(topic);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(topic, waiters);
      }
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        this.#waiters.get(topic)?.delete(wake);
        resolve();
      };
      // Not unref'd: someone awaits this, and the wait is bounded by `ms`.
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

/**
 * An adaptive pause: short right after work was found, doubling while
 * nothing is, up to `max`.
 */
export class Backoff {
  readonly #max: number;
  #current = MIN_POLL_MS;

  constructor(max: number) {
    this.#max = Math.max(max, MIN_POLL_MS);
  }

  /** The pause to take now; the next one is twice as long. */
  next(): number {
    const pause = this.#current;
    this.#current = Math.min(this.#current * 2, this.#max);
    return pause;
  }

  /** Starts over from the shortest pause. */
  reset(): void {
    this.#current = MIN_POLL_MS;
  }
}
