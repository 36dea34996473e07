/**
 * The state of one key-value bucket, shared by the provider instances of
 * a namespace, and the watch that follows it.
 */
import type { RawKvEntry, RawKvEvent } from '../../core/provider.ts';
import type { Closable, Lifecycle } from './support.ts';

interface StoredEntry {
  value: Uint8Array;
  revision: number;
  updatedAt: number;
}

/**
 * What a watcher hears: an event of the bucket, or `undefined` once the
 * bucket is gone.
 */
type Listener = (event: RawKvEvent | undefined) => void;

/**
 * One bucket. Revisions count every write and delete of the bucket, so
 * they increase in write order across keys. With a TTL, an entry expires
 * `ttlMs` after its last write: it is then absent to every read, and is
 * dropped on the next access; expiry itself emits no watch event.
 */
export class KvBucketState {
  readonly name: string;
  readonly ttlMs: number | undefined;
  readonly #entries = new Map<string, StoredEntry>();
  readonly #listeners = new Set<Listener>();
  #revision = 0;

  constructor(name: string, ttlMs: number | undefined) {
    this.name = name;
    this.ttlMs = ttlMs;
  }

  /** The live entry of `key`, if any. */
  get(key: string, now: number): RawKvEntry | undefined {
    const stored = this.#entries.get(key);
    if (stored === undefined) return undefined;
    if (this.#expired(stored, now)) {
      this.#entries.delete(key);
      return undefined;
    }
    return toEntry(key, stored);
  }

  /** Writes `key` and tells the watchers; returns the new revision. */
  put(key: string, value: Uint8Array, now: number): string {
    const revision = ++this.#revision;
    const stored = { value: value.slice(), revision, updatedAt: now };
    this.#entries.set(key, stored);
    this.#emit({ type: 'put', entry: toEntry(key, stored) });

    return String(revision);
  }

  /** Deletes a live `key` and tells the watchers. */
  delete(key: string, now: number): void {
    if (this.get(key, now) === undefined) return;
    this.#entries.delete(key);
    const revision = String(++this.#revision);
    this.#emit({ type: 'delete', key, revision });
  }

  /** The live entries whose keys start with `prefix`, by ascending key. */
  list(prefix: string, now: number): RawKvEntry[] {
    const entries: RawKvEntry[] = [];
    for (const [key, stored] of this.#entries) {
      if (!key.startsWith(prefix)) continue;
      if (this.#expired(stored, now)) {
        this.#entries.delete(key);
        continue;
      }
      entries.push(toEntry(key, stored));
    }
    return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /**
   * Follows the bucket: a snapshot of the entries under `prefix` taken
   * together with subscribing, so no write falls between the two, then
   * every put and delete under it. Ends when `signal` aborts, the
   * iterator is returned, `lifecycle` closes or the bucket is deleted.
   */
  watch(
    prefix: string,
    signal: AbortSignal | undefined,
    lifecycle: Lifecycle,
  ): AsyncIterable<RawKvEvent> {
    return {
      [Symbol.asyncIterator]: () =>
        new KvWatch(this, prefix, signal, lifecycle),
    };
  }

  /** Ends every watch: the bucket is gone. */
  drop(): void {
    for (const listener of [...this.#listeners]) listener(undefined);
    this.#listeners.clear();
  }

  /** Subscribes to the bucket's events. */
  listen(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: RawKvEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  #expired(stored: StoredEntry, now: number): boolean {
    return this.ttlMs !== undefined && stored.updatedAt + this.ttlMs <= now;
  }
}

/** One watch of a bucket, as an async iterator. */
class KvWatch implements AsyncIterator<RawKvEvent> {
  readonly #queue: RawKvEvent[] = [];
  readonly #prefix: string;
  readonly #signal: AbortSignal | undefined;
  readonly #lifecycle: Lifecycle;
  readonly #unlisten: () => void;
  readonly #closable: Closable;
  #wake: (() => void) | undefined;
  /** The bucket is gone: end once the queue is drained. */
  #draining = false;
  #done = false;

  constructor(
    bucket: KvBucketState,
    prefix: string,
    signal: AbortSignal | undefined,
    lifecycle: Lifecycle,
  ) {
    this.#prefix = prefix;
    this.#signal = signal;
    this.#lifecycle = lifecycle;
    this.#closable = { close: async () => this.#finish() };

    const entries = bucket.list(prefix, Date.now());
    this.#queue.push({ type: 'snapshot', entries });
    this.#unlisten = bucket.listen((event) => this.#hear(event));
    signal?.addEventListener('abort', this.#abort);
    lifecycle.track(this.#closable);
    if (signal?.aborted === true) this.#finish();
  }

  async next(): Promise<IteratorResult<RawKvEvent>> {
    while (!this.#done) {
      const event = this.#queue.shift();
      if (event !== undefined) return { done: false, value: event };
      if (this.#draining) {
        this.#finish();
        break;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<RawKvEvent>> {
    this.#finish();
    return { done: true, value: undefined };
  }

  #hear(event: RawKvEvent | undefined): void {
    if (event === undefined) {
      this.#draining = true;
    } else if (event.type === 'snapshot') {
      return;
    } else {
      const key = event.type === 'put' ? event.entry.key : event.key;
      if (!key.startsWith(this.#prefix)) return;
      this.#queue.push(
        event.type === 'put'
          ? {
              type: 'put',
              entry: { ...event.entry, value: event.entry.value.slice() },
            }
          : event,
      );
    }
    this.#wakeUp();
  }

  readonly #abort = (): void => this.#finish();

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue.length = 0;
    this.#unlisten();
    this.#signal?.removeEventListener('abort', this.#abort);
    this.#lifecycle.untrack(this.#closable);
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function toEntry(key: string, stored: StoredEntry): RawKvEntry {
  return {
    key,
    value: stored.value.slice(),
    revision: String(stored.revision),
    updatedAt: stored.updatedAt,
  };
}
