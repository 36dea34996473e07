/**
 * The dedup window of channels. Message ids are random, and a B-tree
 * keyed by them would have every publish dirty a page of its own; so the
 * ids are appended to `dedup_log` in publish order (cheap, sequential)
 * and looked up in memory. Each instance keeps the ids of the window in a
 * map, and before looking one up in a write transaction (which holds the
 * database's write lock) it reads the rows other processes appended since
 * it last looked, so lookups see every publish of every process.
 *
 * Memory grows with the number of ids published in one window, about a
 * hundred bytes each.
 */
import type { Db, Statement } from './database.ts';
import type { TransactionObserver } from './writer.ts';

/** Rows of the log removed per housekeeping run. */
const PRUNE_BATCH = 10_000;

interface LogRow {
  pos: number;
  channel_id: number;
  id: string;
  seq: number;
  stored_at: number;
}

/** Ids published within the window, across the processes of a folder. */
export class DedupIndex implements TransactionObserver {
  readonly #windowMs: number;
  readonly #tail: Statement;
  readonly #append: Statement;
  /** Per channel, each id stored within the window to its sequence. */
  readonly #seen = new Map<number, Map<string, number>>();
  /**
   * The same ids in the order they were stored, for expiry, as parallel
   * columns from `#head` on; the last `#pending` of them were stored by
   * the transaction under way and are undone if it rolls back.
   */
  readonly #channels: number[] = [];
  readonly #ids: string[] = [];
  readonly #seqs: number[] = [];
  readonly #times: number[] = [];
  #head = 0;
  #pending = 0;
  #lastPosition = 0;
  #pendingPosition = 0;
  #caughtUp = false;

  constructor(db: Db, windowMs: number) {
    this.#windowMs = windowMs;
    this.#tail = db.prepare(
      `SELECT pos, channel_id, id, seq, stored_at FROM dedup_log
       WHERE pos > ? AND stored_at > ? ORDER BY pos`,
    );
    this.#append = db.prepare(
      'INSERT INTO dedup_log (channel_id, id, seq, stored_at) VALUES (?, ?, ?, ?)',
    );
  }

  /**
   * Inside a write: the sequence of the message with `id` stored on the
   * channel within the window, if there is one.
   */
  find(channelId: number, id: string, now: number): number | undefined {
    const since = now - this.#windowMs;
    if (!this.#caughtUp) this.#catchUp(since);
    this.#expire(since);

    return this.#seen.get(channelId)?.get(id);
  }

  /** Inside a write: records that `id` was stored as `seq` at `now`. */
  remember(channelId: number, id: string, seq: number, now: number): void {
    const { lastInsertRowid } = this.#append.run(channelId, id, seq, now);
    this.#add(channelId, id, seq, now);
    this.#pending++;
    this.#pendingPosition = Number(lastInsertRowid);
  }

  committed(): void {
    if (this.#pending > 0) this.#lastPosition = this.#pendingPosition;
    this.#pending = 0;
    this.#caughtUp = false;
  }

  rolledBack(): void {
    for (; this.#pending > 0; this.#pending--) {
      const channelId = this.#channels.pop()!;
      const id = this.#ids.pop()!;
      this.#times.pop();
      const seq = this.#seqs.pop()!;
      const ids = this.#seen.get(channelId);
      if (ids?.get(id) === seq) ids.delete(id);
    }
    this.#caughtUp = false;
  }

  /** Reads what other processes appended since the last look. */
  #catchUp(since: number): void {
    const rows = this.#tail.all(this.#lastPosition, since) as LogRow[];
    for (const row of rows) {
      this.#add(row.channel_id, row.id, row.seq, row.stored_at);
      this.#lastPosition = row.pos;
    }
    this.#caughtUp = true;
  }

  #add(channelId: number, id: string, seq: number, storedAt: number): void {
    let ids = this.#seen.get(channelId);
    if (ids === undefined) {
      ids = new Map();
      this.#seen.set(channelId, ids);
    }
    ids.set(id, seq);
    this.#channels.push(channelId);
    this.#ids.push(id);
    this.#seqs.push(seq);
    this.#times.push(storedAt);
  }

  /** Forgets the ids stored at or before `since`. */
  #expire(since: number): void {
    const times = this.#times;
    const last = times.length - this.#pending;
    for (; this.#head < last && times[this.#head]! <= since; this.#head++) {
      const ids = this.#seen.get(this.#channels[this.#head]!);
      const id = this.#ids[this.#head]!;
      if (ids?.get(id) === this.#seqs[this.#head]) ids!.delete(id);
    }
    if (this.#head > 4096 && this.#head * 2 > times.length) {
      for (const column of [this.#channels, this.#ids, this.#seqs, times]) {
        column.splice(0, this.#head);
      }
      this.#head = 0;
    }
  }
}

/**
 * Inside a write: removes from the log the rows stored at or before
 * `since`, from its oldest, at most a batch of them.
 */
export function pruneDedupLog(db: Db, since: number): void {
  const head = db
    .prepare('SELECT pos, stored_at FROM dedup_log ORDER BY pos LIMIT ?')
    .all(PRUNE_BATCH) as { pos: number; stored_at: number }[];
  let last = 0;
  for (const row of head) {
    if (row.stored_at > since) break;
    last = row.pos;
  }
  if (last > 0) db.prepare('DELETE FROM dedup_log WHERE pos <= ?').run(last);
}
