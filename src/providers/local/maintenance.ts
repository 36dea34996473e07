/**
 * Housekeeping run in the background by every provider instance: it
 * forgets message ids past the dedup window, removes expired key-value
 * entries and idempotency records, trims the key-value change log, and
 * removes broadcast consumers whose instance is gone. Each run removes a
 * bounded number of rows, to keep its transaction short.
 */
import { removeConsumer } from './consumer.ts';
import type { LocalContext } from './context.ts';
import { pruneDedupLog } from './dedup.ts';

/** Time between two runs, in ms. */
export const MAINTENANCE_INTERVAL_MS = 5000;

/**
 * How long the key-value change log keeps a write, in ms: a watch that
 * falls further behind than this misses changes.
 */
export const CHANGE_LOG_RETENTION_MS = 60 * 60 * 1000;

/** Most rows one run removes from each table. */
const BATCH = 10_000;

/** Starts the housekeeping timer; the returned function stops it. */
export function startMaintenance(context: LocalContext): () => void {
  const timer = setInterval(() => {
    runMaintenance(context).catch((error: unknown) => {
      context.logger.warn('local provider housekeeping failed', { error });
    });
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();

  return () => clearInterval(timer);
}

/** Runs the housekeeping once, in one write transaction. */
export async function runMaintenance(context: LocalContext): Promise<void> {
  const { db, options } = context;
  if (context.lifecycle.closed) return;

  await context.writer.run('housekeeping', () => {
    const now = Date.now();
    pruneDedupLog(db, now - options.dedupWindowMs);
    db.prepare(
      `DELETE FROM kv_entries WHERE (bucket_id, key) IN
         (SELECT bucket_id, key FROM kv_entries
          WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    ).run(now, BATCH);
    db.prepare(
      `DELETE FROM kv_changes WHERE revision IN
         (SELECT revision FROM kv_changes WHERE updated_at < ? LIMIT ?)`,
    ).run(now - CHANGE_LOG_RETENTION_MS, BATCH);
    db.prepare(
      `DELETE FROM idempotency WHERE (table_name, id) IN
         (SELECT table_name, id FROM idempotency WHERE expiration <= ? LIMIT ?)`,
    ).run(Math.floor(now / 1000), BATCH);

    const gone = db
      .prepare(
        `SELECT id FROM consumers WHERE mode = 'broadcast' AND active_at < ?`,
      )
      .all(now - options.broadcastInactiveMs) as { id: number }[];
    for (const { id } of gone) removeConsumer(context, id);
  });
}
