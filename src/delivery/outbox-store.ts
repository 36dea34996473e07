/**
 * The SQLite file of the producer outbox: the rows waiting to be relayed,
 * the ordering keys that have some, and the messages the transport
 * refused for good.
 *
 * A row is claimed by one relay at a time: `claimed_by` names the relay
 * and `claimed_until` says when the claim lapses. Claims are taken in a
 * write transaction that first reads what is free, so two relays on one
 * file (in one process or several) never hold the same row. Of the rows
 * of one (channel, ordering key), only the oldest can be claimed: the next
 * becomes the oldest once the transport accepted (or refused) it.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  ConfigurationError,
  SwitchyardError,
  TransportUnavailableError,
} from '../core/errors.ts';
import type { WireMessage } from '../core/message.ts';

/**
 * The SQLite binding, loaded when an outbox is first opened: a client that
 * never uses the outbox (a Lambda function bundle, say) neither loads nor
 * carries the native module.
 */
let binding: typeof Database | undefined;
function sqlite(): typeof Database {
  binding ??= createRequire(import.meta.url)(
    'better-sqlite3',
  ) as typeof Database;
  return binding;
}

/** Version of the layout below, kept in `user_version`. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  ordering_key TEXT,
  id TEXT NOT NULL,
  meta TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_keyed
  ON outbox (channel, ordering_key, seq) WHERE ordering_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_unkeyed
  ON outbox (seq) WHERE ordering_key IS NULL;
CREATE INDEX IF NOT EXISTS outbox_claims
  ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox_keys (
  channel TEXT NOT NULL,
  ordering_key TEXT NOT NULL,
  PRIMARY KEY (channel, ordering_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_failed (
  seq INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  ordering_key TEXT,
  id TEXT NOT NULL,
  meta TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  failed_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  code TEXT
);
`;

/** How long a writer waits for another process's transaction, in ms. */
const BUSY_TIMEOUT_MS = 10_000;

/** A row taken by a claim: its position and its message. */
export interface ClaimedRow {
  seq: number;
  message: WireMessage;
  /** Transient failures before this attempt. */
  attempts: number;
}

/** What became of one claimed row. */
export type RowOutcome =
  | { seq: number; kind: 'accepted' }
  | { seq: number; kind: 'retry'; error: string }
  | { seq: number; kind: 'refused'; reason: string; code?: string };

/** A message the transport refused for good, as the store keeps it. */
export interface StoredFailure {
  message: WireMessage;
  /** The refusal's message. */
  reason: string;
  /** The refusal's error code, e.g. `PAYLOAD_TOO_LARGE`. */
  code?: string;
  /** When it was published into the outbox, ms since the epoch. */
  publishedAt: number;
  /** When the transport refused it, ms since the epoch. */
  failedAt: number;
  /** Attempts made, the refused one included. */
  attempts: number;
}

/** Depth and age of the rows of one channel. */
export interface ChannelDepth {
  depth: number;
  /** When the oldest row was written, ms since the epoch. */
  oldestAt: number;
}

interface Row {
  seq: number;
  meta: string;
  body: Buffer;
  attempts: number;
}

/** The fields of a message besides its body, as `meta` holds them. */
type Meta = Omit<WireMessage, 'body'>;

/** The outbox file of one relay, with its statements prepared. */
export class OutboxStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #owner: string;
  readonly #insert: Database.Statement;
  readonly #insertKey: Database.Statement;
  readonly #keyedHeads: Database.Statement;
  readonly #unkeyed: Database.Statement;
  readonly #claim: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #dropKey: Database.Statement;
  readonly #release: Database.Statement;
  readonly #refuse: Database.Statement;
  readonly #renew: Database.Statement;
  readonly #any: Database.Statement;
  readonly #depths: Database.Statement;
  readonly #failedCounts: Database.Statement;
  readonly #failures: Database.Statement;
  readonly #append: (
    messages: readonly WireMessage[],
    now: number,
    synchronous: 'FULL' | 'NORMAL',
  ) => void;
  readonly #take: (limit: number, now: number, until: number) => ClaimedRow[];
  readonly #settle: (outcomes: readonly RowOutcome[], now: number) => void;
  /** Channels left out of claims, as a JSON array. */
  #excluded = '[]';

  /**
   * Opens (creating if absent) the outbox file at `path` for the relay
   * `owner`. Throws a ConfigurationError when the file cannot be opened
   * or was written by a newer layout.
   */
  constructor(path: string, owner: string) {
    this.path = path;
    this.#owner = owner;
    this.#db = openFile(path);
    const db = this.#db;

    this.#insert = db.prepare(
      'INSERT INTO outbox (channel, ordering_key, id, meta, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertKey = db.prepare(
      'INSERT OR IGNORE INTO outbox_keys (channel, ordering_key) VALUES (?, ?)',
    );
    const free = `o.claimed_until <= @now AND o.channel NOT IN (SELECT value FROM json_each(@excluded))`;
    this.#keyedHeads = db.prepare(
      `SELECT o.seq, o.meta, o.body, o.attempts FROM outbox_keys k
       JOIN outbox o ON o.seq = (
         SELECT min(i.seq) FROM outbox i
         WHERE i.channel = k.channel AND i.ordering_key = k.ordering_key)
       WHERE ${free} ORDER BY o.seq LIMIT @limit`,
    );
    this.#unkeyed = db.prepare(
      `SELECT o.seq, o.meta, o.body, o.attempts FROM outbox o
       WHERE o.ordering_key IS NULL AND ${free} ORDER BY o.seq LIMIT @limit`,
    );
    this.#claim = db.prepare(
      'UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE seq = ?',
    );
    this.#delete = db.prepare(
      'DELETE FROM outbox WHERE seq = ? RETURNING channel, ordering_key',
    );
    this.#dropKey = db.prepare(
      `DELETE FROM outbox_keys WHERE channel = @channel
       AND ordering_key = @key AND NOT EXISTS (
         SELECT 1 FROM outbox WHERE channel = @channel AND ordering_key = @key)`,
    );
    this.#release = db.prepare(
      `UPDATE outbox SET claimed_by = NULL, claimed_until = 0,
       attempts = attempts + 1, last_error = ?
       WHERE seq = ? AND claimed_by = ?`,
    );
    this.#refuse = db.prepare(
      `INSERT OR REPLACE INTO outbox_failed (seq, channel, ordering_key, id,
         meta, body, created_at, failed_at, attempts, reason, code)
       SELECT seq, channel, ordering_key, id, meta, body, created_at,
         @now, attempts + 1, @reason, @code FROM outbox WHERE seq = @seq`,
    );
    this.#renew = db.prepare(
      'UPDATE outbox SET claimed_until = ? WHERE claimed_by = ?',
    );
    this.#any = db.prepare('SELECT EXISTS (SELECT 1 FROM outbox) AS any');
    this.#depths = db.prepare(
      'SELECT channel, count(*) AS depth, min(created_at) AS oldest FROM outbox GROUP BY channel',
    );
    this.#failedCounts = db.prepare(
      'SELECT channel, count(*) AS failed FROM outbox_failed GROUP BY channel',
    );
    this.#failures = db.prepare(
      `SELECT meta, body, created_at, failed_at, attempts, reason, code
       FROM outbox_failed
       WHERE @channel IS NULL OR channel = @channel
       ORDER BY seq LIMIT @limit`,
    );

    const append = db.transaction(
      (messages: readonly WireMessage[], now: number) => {
        for (const message of messages) {
          const { body, ...meta } = message;
          const key = message.orderingKey ?? null;
          const { channel } = message;
          const text = JSON.stringify(meta);
          this.#insert.run(channel, key, message.id, text, body, now);
          if (key !== null) this.#insertKey.run(channel, key);
        }
      },
    );
    this.#append = (messages, now, synchronous) => {
      db.pragma(`synchronous = ${synchronous}`);
      append.immediate(messages, now);
    };

    const take = db.transaction(
      (limit: number, now: number, until: number, excluded: string) => {
        const params = { now, limit, excluded };
        const rows = [
          ...(this.#keyedHeads.all(params) as Row[]),
          ...(this.#unkeyed.all(params) as Row[]),
        ]
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit);
        for (const row of rows) this.#claim.run(this.#owner, until, row.seq);
        return rows;
      },
    );
    this.#take = (limit, now, until) => {
      db.pragma('synchronous = NORMAL');
      return take.immediate(limit, now, until, this.#excluded).map(toClaimed);
    };

    const settle = db.transaction(
      (outcomes: readonly RowOutcome[], now: number) => {
        for (const outcome of outcomes) {
          if (outcome.kind === 'retry') {
            this.#release.run(outcome.error, outcome.seq, this.#owner);
            continue;
          }
          if (outcome.kind === 'refused') {
            this.#refuse.run({
              now,
              reason: outcome.reason,
              code: outcome.code ?? null,
              seq: outcome.seq,
            });
          }
          const removed = this.#delete.get(outcome.seq) as
            | { channel: string; ordering_key: string | null }
            | undefined;
          if (removed?.ordering_key != null) {
            this.#dropKey.run({
              channel: removed.channel,
              key: removed.ordering_key,
            });
          }
        }
      },
    );
    this.#settle = (outcomes, now) => {
      db.pragma('synchronous = NORMAL');
      settle.immediate(outcomes, now);
    };
  }

  /** Leaves the rows of `channels` alone in claims from now on. */
  excludeChannels(channels: readonly string[]): void {
    this.#excluded = JSON.stringify(channels);
  }

  /** Whether the file is still open. */
  get open(): boolean {
    return this.#db.open;
  }

  /**
   * Writes `messages` in one transaction, committed with `synchronous`
   * before this returns. Throws a TransportUnavailableError when the
   * file is busy, full or failing.
   */
  append(messages: readonly WireMessage[], synchronous: 'full' | 'normal') {
    const level = synchronous === 'full' ? 'FULL' : 'NORMAL';
    guard('write to the outbox', this.path, () =>
      this.#append(messages, Date.now(), level),
    );
  }

  /**
   * Claims up to `limit` free rows for `leaseMs`: the oldest row of each
   * ordering key whose older rows are all gone, and rows without a key,
   * oldest first, skipping the excluded channels.
   */
  claim(limit: number, leaseMs: number): ClaimedRow[] {
    const now = Date.now();
    return guard('claim outbox rows', this.path, () =>
      this.#take(limit, now, now + leaseMs),
    );
  }

  /**
   * Records what became of claimed rows: accepted rows are removed,
   * refused ones moved to the failed messages, the others released
   * with their error for another attempt.
   */
  settle(outcomes: readonly RowOutcome[]): void {
    guard('settle outbox rows', this.path, () =>
      this.#settle(outcomes, Date.now()),
    );
  }

  /** Extends this relay's claims to `leaseMs` from now. */
  renew(leaseMs: number): void {
    guard('renew outbox claims', this.path, () =>
      this.#renew.run(Date.now() + leaseMs, this.#owner),
    );
  }

  /** Whether any row waits, in any process. */
  isEmpty(): boolean {
    return !(this.#any.get() as { any: number }).any;
  }

  /** Rows waiting and failed messages, per channel. */
  depths(): {
    waiting: Map<string, ChannelDepth>;
    failed: Map<string, number>;
  } {
    const waiting = new Map<string, ChannelDepth>();
    for (const row of this.#depths.all() as {
      channel: string;
      depth: number;
      oldest: number;
    }[]) {
      waiting.set(row.channel, { depth: row.depth, oldestAt: row.oldest });
    }
    const failed = new Map<string, number>();
    for (const row of this.#failedCounts.all() as {
      channel: string;
      failed: number;
    }[]) {
      failed.set(row.channel, row.failed);
    }
    return { waiting, failed };
  }

  /** Failed messages, oldest first. */
  failures(channel: string | undefined, limit: number): StoredFailure[] {
    const rows = this.#failures.all({
      channel: channel ?? null,
      limit,
    }) as {
      meta: string;
      body: Buffer;
      created_at: number;
      failed_at: number;
      attempts: number;
      reason: string;
      code: string | null;
    }[];
    return rows.map((row) => ({
      message: toMessage(row.meta, row.body),
      reason: row.reason,
      ...(row.code !== null && { code: row.code }),
      publishedAt: row.created_at,
      failedAt: row.failed_at,
      attempts: row.attempts,
    }));
  }

  /** Closes the file. Idempotent. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function openFile(path: string): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new (sqlite())(path);
  } catch (error) {
    throw cannotOpen(path, error);
  }

  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const migrate = db.transaction(() => {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new ConfigurationError(
          `outbox ${path} was written by a newer version of Switchyard (layout ${version}, this one knows up to ${SCHEMA_VERSION})`,
          { field: 'outbox.path', value: path },
        );
      }
      db.exec(SCHEMA);
      if (version !== SCHEMA_VERSION) {
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
    });
    migrate.immediate();
  } catch (error) {
    db.close();
    if (error instanceof SwitchyardError) throw error;
    throw cannotOpen(path, error);
  }

  return db;
}

function cannotOpen(path: string, error: unknown): ConfigurationError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ConfigurationError(
    `cannot open the outbox at ${path}: ${reason}`,
    { field: 'outbox.path', value: path, cause: error },
  );
}

/**
 * Runs `work`; what SQLite throws becomes a TransportUnavailableError
 * saying what failed, with SQLite's code, so that a busy or full file is
 * reported as the store being unavailable now.
 */
function guard<T>(operation: string, path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof SwitchyardError) throw error;
    const code = (error as { code?: unknown })?.code;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TransportUnavailableError(
      `cannot ${operation} ${path}: ${reason}`,
      {
        cause: error,
        details: {
          provider: 'outbox',
          ...(typeof code === 'string' && { providerCode: code }),
        },
      },
    );
  }
}

function toClaimed(row: Row): ClaimedRow {
  return {
    seq: row.seq,
    message: toMessage(row.meta, row.body),
    attempts: row.attempts,
  };
}

function toMessage(meta: string, body: Buffer): WireMessage {
  const fields = JSON.parse(meta) as Meta;
  return {
    ...fields,
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
  };
}
