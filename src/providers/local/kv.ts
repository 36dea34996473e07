/**
 * Key-value buckets in SQLite. Every write appends to `kv_changes` in
 * the same transaction as the entry it changes; the change's sequence is
 * the entry's revision, so revisions increase with every write and a
 * watch can replay the writes in order from any revision.
 */
import type {
  KvStore,
  KvTransport,
  RawKvEntry,
  RawKvEvent,
} from '../../core/provider.ts';
import { bucketTopic, type LocalContext } from './context.ts';
import type { Statement } from './database.ts';
import { conflict, notFound, prefixEnd, read } from './support.ts';
import { watchBucket } from './watch.ts';

/** Rows read per page by `keys` and `entries`. */
const PAGE = 500;

/** A bucket's row. */
export interface BucketRow {
  id: number;
  name: string;
  ttl_ms: number | null;
}

/** An entry's row. */
export interface EntryRow {
  key: string;
  value: Uint8Array;
  revision: number;
  updated_at: number;
}

/**
 * The key-value buckets of one data folder. A bucket keeps the TTL it
 * was created with; opening it again with another `ttlMs` does not
 * change it.
 */
export class LocalKv implements KvTransport {
  readonly #context: LocalContext;

  constructor(context: LocalContext) {
    this.#context = context;
  }

  async open(
    bucket: string,
    options: { create: boolean; ttlMs?: number },
  ): Promise<KvStore> {
    this.#context.lifecycle.check('open a key-value bucket');
    const { db } = this.#context;
    const select = db.prepare(
      'SELECT id, name, ttl_ms FROM kv_buckets WHERE name = ?',
    );

    let row = read('open a key-value bucket', () => select.get(bucket)) as
      | BucketRow
      | undefined;
    if (row === undefined) {
      if (!options.create) throw notFound('kv-bucket', bucket, { bucket });
      row = await this.#context.writer.run('create key-value bucket', () => {
        db.prepare(
          `INSERT INTO kv_buckets (name, ttl_ms, created_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO NOTHING`,
        ).run(bucket, options.ttlMs ?? null, Date.now());
        return select.get(bucket) as BucketRow;
      });
    }
    return new LocalKvStore(this.#context, row);
  }

  async list(): Promise<string[]> {
    this.#context.lifecycle.check('list key-value buckets');
    const rows = read('list key-value buckets', () =>
      this.#context.db
        .prepare('SELECT name FROM kv_buckets ORDER BY name')
        .all(),
    ) as { name: string }[];
    return rows.map((row) => row.name);
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete a key-value bucket');
    const { db } = this.#context;

    await this.#context.writer.run('delete key-value bucket', () => {
      const row = db
        .prepare('SELECT id FROM kv_buckets WHERE name = ?')
        .get(bucket) as { id: number } | undefined;
      if (row === undefined) return;
      db.prepare('DELETE FROM kv_entries WHERE bucket_id = ?').run(row.id);
      db.prepare('DELETE FROM kv_changes WHERE bucket_id = ?').run(row.id);
      db.prepare('DELETE FROM kv_buckets WHERE id = ?').run(row.id);
    });
  }
}

/**
 * One bucket. Entries of a bucket with a TTL expire `ttlMs` after their
 * last write and are never returned once expired; their removal is not
 * reported to watches.
 */
class LocalKvStore implements KvStore {
  readonly #context: LocalContext;
  readonly #bucket: BucketRow;
  readonly #exists: Statement;
  readonly #get: Statement;
  readonly #page: Statement;
  readonly #upsert: Statement;
  readonly #remove: Statement;
  readonly #change: Statement;

  constructor(context: LocalContext, bucket: BucketRow) {
    const { db } = context;
    this.#context = context;
    this.#bucket = bucket;
    this.#exists = db.prepare('SELECT 1 FROM kv_buckets WHERE id = ?');
    this.#get = db.prepare(
      `SELECT key, value, revision, updated_at FROM kv_entries
       WHERE bucket_id = ? AND key = ?
         AND (expires_at IS NULL OR expires_at > ?)`,
    );
    this.#page = db.prepare(
      `SELECT key, value, revision, updated_at FROM kv_entries
       WHERE bucket_id = ? AND key >= ? AND key < ?
         AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY key LIMIT ?`,
    );
    this.#upsert = db.prepare(
      `INSERT INTO kv_entries
         (bucket_id, key, value, revision, updated_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (bucket_id, key) DO UPDATE SET value = excluded.value,
         revision = excluded.revision, updated_at = excluded.updated_at,
         expires_at = excluded.expires_at`,
    );
    this.#remove = db.prepare(
      'DELETE FROM kv_entries WHERE bucket_id = ? AND key = ?',
    );
    this.#change = db.prepare(
      `INSERT INTO kv_changes (bucket_id, key, op, value, updated_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
  }

  async get(key: string): Promise<RawKvEntry | undefined> {
    this.#context.lifecycle.check('read a key');
    const row = read('read a key', () => this.#current(key));
    return row === undefined ? undefined : toEntry(row);
  }

  put(key: string, value: Uint8Array): Promise<string> {
    return this.#write('put', () => this.#store(key, value));
  }

  create(key: string, value: Uint8Array): Promise<string> {
    return this.#write('create', () => {
      const current = this.#current(key);
      if (current !== undefined) {
        throw conflict(
          `key '${key}' already exists in bucket '${this.#bucket.name}'`,
          undefined,
          String(current.revision),
          { bucket: this.#bucket.name, key },
        );
      }
      return this.#store(key, value);
    });
  }

  update(key: string, value: Uint8Array, revision: string): Promise<string> {
    return this.#write('update', () => {
      this.#expect(key, revision);
      return this.#store(key, value);
    });
  }

  async delete(key: string, options: { revision?: string } = {}) {
    await this.#write('delete', () => {
      const now = Date.now();
      const current =
        options.revision === undefined
          ? this.#current(key)
          : this.#expect(key, options.revision);
      const { changes } = this.#remove.run(this.#bucket.id, key);
      if (current !== undefined && changes > 0) {
        this.#change.run(this.#bucket.id, key, 'delete', null, now);
      }
    });
  }

  async *keys(prefix: string): AsyncIterable<string> {
    for await (const entry of this.entries(prefix)) yield entry.key;
  }

  async *entries(prefix: string): AsyncIterable<RawKvEntry> {
    this.#context.lifecycle.check('list keys');
    const end = prefix === '' ? '\u{10FFFF}' : prefixEnd(prefix);
    let from = prefix;

    for (;;) {
      const rows = read(
        'list keys',
        () =>
          this.#page.all(
            this.#bucket.id,
            from,
            end,
            Date.now(),
            PAGE,
          ) as EntryRow[],
      );
      for (const row of rows) yield toEntry(row);
      if (rows.length < PAGE) return;
      // Keys hold no NUL, so this is the first key after the last one.
      from = `${rows[rows.length - 1]!.key}\u0000`;
    }
  }

  watch(options: {
    prefix: string;
    signal?: AbortSignal;
  }): AsyncIterable<RawKvEvent> {
    this.#context.lifecycle.check('watch a bucket');
    return watchBucket(this.#context, this.#bucket.id, options);
  }

  async #write<T>(operation: string, work: () => T): Promise<T> {
    this.#context.lifecycle.check(`${operation} a key`);
    const result = await this.#context.writer.run(`kv ${operation}`, () => {
      if (this.#exists.get(this.#bucket.id) === undefined) {
        throw notFound('kv-bucket', this.#bucket.name, {
          bucket: this.#bucket.name,
        });
      }
      return work();
    });
    this.#context.wakeups.notify(bucketTopic(this.#bucket.id));
    return result;
  }

  /** Writes the entry and its change; returns the new revision. */
  #store(key: string, value: Uint8Array): string {
    const now = Date.now();
    const ttl = this.#bucket.ttl_ms;
    const { lastInsertRowid } = this.#change.run(
      this.#bucket.id,
      key,
      'put',
      value,
      now,
    );
    const revision = Number(lastInsertRowid);
    this.#upsert.run(
      this.#bucket.id,
      key,
      value,
      revision,
      now,
      ttl === null ? null : now + ttl,
    );
    return String(revision);
  }

  #current(key: string): EntryRow | undefined {
    return this.#get.get(this.#bucket.id, key, Date.now()) as
      | EntryRow
      | undefined;
  }

  /** The current entry, if its revision is `revision`; ConflictError if not. */
  #expect(key: string, revision: string): EntryRow {
    const current = this.#current(key);
    if (current === undefined || String(current.revision) !== revision) {
      const found = current === undefined ? 'absent' : current.revision;
      throw conflict(
        `key '${key}' in bucket '${this.#bucket.name}' is at revision ${found}, not ${revision}`,
        revision,
        current === undefined ? undefined : String(current.revision),
        { bucket: this.#bucket.name, key },
      );
    }
    return current;
  }
}

/** An entry as the SPI returns it. */
export function toEntry(row: EntryRow): RawKvEntry {
  const value = row.value;
  return {
    key: row.key,
    value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    revision: String(row.revision),
    updatedAt: row.updated_at,
  };
}
