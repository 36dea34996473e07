/**
 * Watching a JetStream KV bucket. The watcher is an ordered consumer of
 * the bucket's stream that first delivers the last message of every key
 * and then each new one, in stream order. The snapshot is complete at
 * the first message at or past the stream's last sequence as read before
 * the watcher started, or at the first one after which nothing is
 * pending; every later message is a change. Writes made while the
 * snapshot loads are folded into it, so nothing is missed between the
 * snapshot and the first change. Should every message up to that mark
 * expire (a bucket with a TTL) before the watcher gets it, the snapshot
 * ends once the stream shows it, within about a second.
 */
import type { KV, KvEntry, KvWatchEntry } from '@nats-io/kv';
import type { RawKvEntry, RawKvEvent } from '../../core/provider.ts';
import type { NatsContext } from './connection.ts';

/** How long the snapshot waits for a message before it looks for expiry. */
const IDLE_CHECK_MS = 1000;

/** What a watch needs besides the bucket. */
export interface WatchOptions {
  prefix: string;
  signal?: AbortSignal;
  /** Switchyard name of the bucket. */
  bucket: string;
  /** Maps a client failure to the error the watch throws. */
  onError(error: unknown): Error;
}

/**
 * Yields a snapshot of the entries under `prefix`, then each put and
 * delete under it in write order. Ends when `signal` aborts, when the
 * iterator is returned, or when the provider closes.
 */
export async function* watchKv(
  context: NatsContext,
  kv: KV,
  options: WatchOptions,
): AsyncGenerator<RawKvEvent> {
  const { prefix, signal, lifecycle } = { ...options, ...context };
  if (signal?.aborted) return;

  let stopped = false;
  let watcher: Awaited<ReturnType<KV['watch']>> | undefined;
  const stop = () => {
    stopped = true;
    watcher?.stop();
  };
  const closer = { close: async () => stop() };
  lifecycle.track(closer);
  signal?.addEventListener('abort', stop, { once: true });

  try {
    let mark: { lastSeq: number; messages: number };
    try {
      const { state } = (await kv.status()).streamInfo;
      mark = { lastSeq: state.last_seq, messages: state.messages };
      watcher = await kv.watch({ key: '>' });
    } catch (error) {
      throw options.onError(error);
    }
    if (stopped) {
      watcher.stop();
      return;
    }

    const snapshot = new Map<string, RawKvEntry>();
    let loading = mark.messages > 0;
    if (!loading) yield { type: 'snapshot', entries: [] };

    const entries = watcher[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<KvWatchEntry>> | undefined;
    try {
      for (;;) {
        pending ??= entries.next();
        const next = loading ? await orIdle(pending) : await pending;
        if (stopped) break;
        if (next === 'idle') {
          if (await expiredSince(kv, mark.lastSeq)) {
            loading = false;
            yield { type: 'snapshot', entries: sorted(snapshot) };
            snapshot.clear();
          }
          continue;
        }
        pending = undefined;
        if (next.done) break;
        const entry = next.value;
        const matches = entry.key.startsWith(prefix);
        if (loading) {
          if (matches) fold(snapshot, entry);
          if (entry.revision >= mark.lastSeq || entry.delta === 0) {
            loading = false;
            yield { type: 'snapshot', entries: sorted(snapshot) };
            snapshot.clear();
          }
          continue;
        }
        if (matches) yield toEvent(entry);
      }
    } catch (error) {
      if (!stopped) throw options.onError(error);
    } finally {
      // A next() still waiting when the watch ends settles unobserved.
      pending?.catch(() => {});
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    lifecycle.untrack(closer);
    stop();
  }
}

/** `next`, or `idle` if it does not settle within a second. */
async function orIdle<T>(next: Promise<T>): Promise<T | 'idle'> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<'idle'>((resolve) => {
    timer = setTimeout(() => resolve('idle'), IDLE_CHECK_MS);
  });
  try {
    return await Promise.race([next, idle]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether the bucket no longer holds any message up to `lastSeq`.
 * Entries of a bucket with a TTL may expire between reading the mark
 * and starting the watcher, and then no message would end the snapshot.
 */
async function expiredSince(kv: KV, lastSeq: number): Promise<boolean> {
  const { state } = (await kv.status()).streamInfo;
  return state.messages === 0 || state.first_seq > lastSeq;
}

function fold(snapshot: Map<string, RawKvEntry>, entry: KvWatchEntry) {
  if (entry.operation === 'PUT') snapshot.set(entry.key, toEntry(entry));
  else snapshot.delete(entry.key);
}

function sorted(snapshot: Map<string, RawKvEntry>): RawKvEntry[] {
  return [...snapshot.values()].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
}

function toEvent(entry: KvWatchEntry): RawKvEvent {
  if (entry.operation === 'PUT') return { type: 'put', entry: toEntry(entry) };
  return { type: 'delete', key: entry.key, revision: String(entry.revision) };
}

/** A KV entry as the SPI returns it. */
export function toEntry(entry: KvEntry): RawKvEntry {
  return {
    key: entry.key,
    value: entry.value,
    revision: String(entry.revision),
    updatedAt: entry.created.getTime(),
  };
}
