/**
 * Watching a key-value bucket by reading its change log: the snapshot and
 * the revision it stands at are read in one read transaction, then every
 * change after that revision is read in order, by polling (other
 * processes' writes) and at once on this process's writes.
 */
import type { RawKvEntry, RawKvEvent } from '../../core/provider.ts';
import { bucketTopic, type LocalContext } from './context.ts';
import { type EntryRow, toEntry } from './kv.ts';
import { prefixEnd, read } from './support.ts';
import { Backoff } from './wakeups.ts';

/** Changes read per look at the log. */
const PAGE = 500;

interface ChangeRow {
  revision: number;
  key: string;
  op: 'put' | 'delete';
  value: Uint8Array | null;
  updated_at: number;
}

/**
 * Yields a snapshot of the entries under `prefix`, then each put and
 * delete under it in write order. Ends when `signal` aborts, when the
 * iterator is returned, or when the provider closes.
 */
export async function* watchBucket(
  context: LocalContext,
  bucketId: number,
  options: { prefix: string; signal?: AbortSignal },
): AsyncGenerator<RawKvEvent> {
  const { db, lifecycle, wakeups } = context;
  const { prefix } = options;
  const stop = new AbortController();
  const closer = { close: async () => stop.abort() };
  const signal =
    options.signal === undefined
      ? stop.signal
      : AbortSignal.any([options.signal, stop.signal]);
  lifecycle.track(closer);

  try {
    const end = prefix === '' ? '\u{10FFFF}' : prefixEnd(prefix);
    const snapshot = db.transaction(() => {
      const mark = db
        .prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv_changes'")
        .get() as { seq: number } | undefined;
      const rows = db
        .prepare(
          `SELECT key, value, revision, updated_at FROM kv_entries
           WHERE bucket_id = ? AND key >= ? AND key < ?
             AND (expires_at IS NULL OR expires_at > ?)
           ORDER BY key`,
        )
        .all(bucketId, prefix, end, Date.now()) as EntryRow[];
      return { revision: mark?.seq ?? 0, entries: rows.map(toEntry) };
    });
    let { revision, entries } = read('watch a bucket', () =>
      snapshot.deferred(),
    );
    if (signal.aborted) return;
    yield { type: 'snapshot', entries };
    entries = [];

    const changes = db.prepare(
      `SELECT revision, key, op, value, updated_at FROM kv_changes
       WHERE bucket_id = ? AND revision > ? ORDER BY revision LIMIT ?`,
    );
    const backoff = new Backoff(context.options.pollIntervalMs);
    const topic = bucketTopic(bucketId);
    while (!signal.aborted) {
      const rows = read(
        'watch a bucket',
        () => changes.all(bucketId, revision, PAGE) as ChangeRow[],
      );
      for (const row of rows) {
        revision = row.revision;
        if (!row.key.startsWith(prefix)) continue;
        yield toEvent(row);
        if (signal.aborted) return;
      }
      if (rows.length === PAGE) continue;
      if (rows.length > 0) backoff.reset();
      await wakeups.wait(topic, backoff.next(), signal);
    }
  } finally {
    lifecycle.untrack(closer);
  }
}

function toEvent(row: ChangeRow): RawKvEvent {
  if (row.op === 'delete') {
    return { type: 'delete', key: row.key, revision: String(row.revision) };
  }
  const entry: RawKvEntry = toEntry({
    key: row.key,
    value: row.value!,
    revision: row.revision,
    updated_at: row.updated_at,
  });
  return { type: 'put', entry };
}
