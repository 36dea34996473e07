/**
 * Idempotency records in SQLite, in the layout AWS Lambda Powertools uses
 * (id, status, expiration in seconds, in-progress expiration in ms, data).
 * Each operation reads and writes its record inside one write transaction,
 * which holds the database's write lock, so of callers racing in several
 * processes exactly one acquires a record.
 */
import type {
  BeginOutcome,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyTransport,
} from '../../core/provider.ts';
import { recordNotHeld } from '../../core/provider-kit.ts';
import type { LocalContext } from './context.ts';
import type { Statement } from './database.ts';
import { PROVIDER, read } from './support.ts';

interface RecordRow {
  id: string;
  status: 'INPROGRESS' | 'COMPLETED';
  expiration: number;
  in_progress_expiration: number | null;
  data: string | null;
  owner: string | null;
}

/** Idempotency tables of one data folder, all in one SQLite table. */
export class LocalIdempotency implements IdempotencyTransport {
  readonly #context: LocalContext;

  constructor(context: LocalContext) {
    this.#context = context;
  }

  async open(table: string): Promise<IdempotencyStore> {
    this.#context.lifecycle.check('open an idempotency table');
    return new LocalIdempotencyStore(this.#context, table);
  }
}

/**
 * One table. An expired record (past `expiration`) counts as absent. A
 * record is held by `owner` while it is INPROGRESS under that owner; a
 * lapsed lease can be taken over by `begin`, and until it is, its owner
 * may still complete, extend or release it.
 */
class LocalIdempotencyStore implements IdempotencyStore {
  readonly #context: LocalContext;
  readonly #table: string;
  readonly #get: Statement;
  readonly #acquire: Statement;
  readonly #complete: Statement;
  readonly #extend: Statement;
  readonly #release: Statement;

  constructor(context: LocalContext, table: string) {
    const { db } = context;
    this.#context = context;
    this.#table = table;
    this.#get = db.prepare(
      `SELECT id, status, expiration, in_progress_expiration, data, owner
       FROM idempotency WHERE table_name = ? AND id = ?`,
    );
    this.#acquire = db.prepare(
      `INSERT INTO idempotency (table_name, id, status, expiration,
         in_progress_expiration, data, owner)
       VALUES (?, ?, 'INPROGRESS', ?, ?, NULL, ?)
       ON CONFLICT (table_name, id) DO UPDATE SET status = 'INPROGRESS',
         expiration = excluded.expiration,
         in_progress_expiration = excluded.in_progress_expiration,
         data = NULL, owner = excluded.owner`,
    );
    this.#complete = db.prepare(
      `UPDATE idempotency SET status = 'COMPLETED', expiration = ?,
         in_progress_expiration = NULL, data = ?
       WHERE table_name = ? AND id = ? AND status = 'INPROGRESS'
         AND owner = ? AND expiration > ?`,
    );
    this.#extend = db.prepare(
      `UPDATE idempotency SET in_progress_expiration = ?
       WHERE table_name = ? AND id = ? AND status = 'INPROGRESS'
         AND owner = ? AND expiration > ?`,
    );
    this.#release = db.prepare(
      `DELETE FROM idempotency
       WHERE table_name = ? AND id = ? AND status = 'INPROGRESS' AND owner = ?`,
    );
  }

  begin(
    id: string,
    options: { owner: string; leaseMs: number; ttlMs: number },
  ): Promise<BeginOutcome> {
    return this.#write('begin', (now): BeginOutcome => {
      const row = this.#read(id, now);
      if (row?.status === 'COMPLETED') {
        return row.data === null
          ? { status: 'completed' }
          : { status: 'completed', data: row.data };
      }
      const until = row?.in_progress_expiration ?? 0;
      if (row !== undefined && until > now) {
        return { status: 'in-progress', until };
      }
      this.#acquire.run(
        this.#table,
        id,
        expiration(now, options.ttlMs),
        now + options.leaseMs,
        options.owner,
      );
      return { status: 'acquired' };
    });
  }

  async complete(
    id: string,
    options: { owner: string; data?: string; ttlMs: number },
  ): Promise<void> {
    await this.#write('complete', (now) => {
      const { changes } = this.#complete.run(
        expiration(now, options.ttlMs),
        options.data ?? null,
        this.#table,
        id,
        options.owner,
        Math.floor(now / 1000),
      );
      if (changes === 0) this.#notHeld(id, options.owner, now);
    });
  }

  async extend(
    id: string,
    options: { owner: string; leaseMs: number },
  ): Promise<void> {
    await this.#write('extend', (now) => {
      const { changes } = this.#extend.run(
        now + options.leaseMs,
        this.#table,
        id,
        options.owner,
        Math.floor(now / 1000),
      );
      if (changes === 0) this.#notHeld(id, options.owner, now);
    });
  }

  async release(id: string, options: { owner: string }): Promise<void> {
    await this.#write('release', () => {
      this.#release.run(this.#table, id, options.owner);
    });
  }

  async get(id: string): Promise<IdempotencyRecord | undefined> {
    this.#context.lifecycle.check('read an idempotency record');
    const row = read('read an idempotency record', () =>
      this.#read(id, Date.now()),
    );
    if (row === undefined) return undefined;

    const record: IdempotencyRecord = {
      id: row.id,
      status: row.status,
      expiration: row.expiration,
    };
    if (row.in_progress_expiration !== null) {
      record.inProgressExpiration = row.in_progress_expiration;
    }
    if (row.data !== null) record.data = row.data;
    if (row.owner !== null) record.owner = row.owner;
    return record;
  }

  #write<T>(operation: string, work: (now: number) => T): Promise<T> {
    this.#context.lifecycle.check(`${operation} an idempotency record`);
    return this.#context.writer.run(`idempotency ${operation}`, () =>
      work(Date.now()),
    );
  }

  /** The record, unless absent or expired. */
  #read(id: string, now: number): RecordRow | undefined {
    const row = this.#get.get(this.#table, id) as RecordRow | undefined;
    if (row === undefined || row.expiration * 1000 <= now) return undefined;
    return row;
  }

  #notHeld(id: string, owner: string, now: number): never {
    throw recordNotHeld(
      PROVIDER,
      { table: this.#table, id },
      owner,
      this.#read(id, now),
    );
  }
}

/** The expiration of a record written at `now`, in seconds. */
function expiration(now: number, ttlMs: number): number {
  return Math.ceil((now + ttlMs) / 1000);
}
