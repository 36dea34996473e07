/**
 * The tables of the local provider, one migration per schema version.
 * The database's `user_version` records the version applied; a migration
 * only ever adds to the one before it.
 *
 * Channels: `messages` holds every channel's messages, numbered by a
 * sequence that is never reused (AUTOINCREMENT), so a consumer's cursor
 * stays meaningful after purges. A consumer (worker group or broadcast
 * instance) has a cursor, the last sequence it took, and one row in
 * `deliveries` per message taken and not yet acknowledged: its attempt,
 * when it becomes visible again, and the lease token of its current
 * delivery. Rows with attempt 0 are waiting for their first delivery
 * (blocked behind an ordering key, or replayed from the dead letters).
 *
 * `dedup_log` lists the ids published, in order, for the dedup window
 * (see `dedup.ts`).
 *
 * Key-value: `kv_changes` numbers every write; its sequence is the
 * revision of the write and the position a watch resumes from.
 */

/** The version of the schema this code writes. */
export const SCHEMA_VERSION = 1;

/** `MIGRATIONS[n]` brings a database from version `n` to `n + 1`. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    ordered INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    attributes TEXT,
    published_at INTEGER NOT NULL,
    publisher_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    ordering_key TEXT,
    traceparent TEXT,
    tracestate TEXT
  );
  CREATE INDEX messages_by_channel ON messages (channel_id, seq);

  CREATE TABLE dedup_log (
    pos INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stored_at INTEGER NOT NULL
  );

  CREATE TABLE consumers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    active_at INTEGER NOT NULL,
    UNIQUE (channel_id, name)
  );

  CREATE TABLE deliveries (
    consumer_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    token INTEGER NOT NULL,
    ordering_key TEXT,
    PRIMARY KEY (consumer_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX deliveries_by_visibility
    ON deliveries (consumer_id, visible_at);
  CREATE INDEX deliveries_by_key ON deliveries (consumer_id, ordering_key, seq)
    WHERE ordering_key IS NOT NULL;

  CREATE TABLE dead_letters (
    entry INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    attributes TEXT,
    published_at INTEGER NOT NULL,
    publisher_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    ordering_key TEXT,
    traceparent TEXT,
    tracestate TEXT,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    dead_lettered_at INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_by_channel ON dead_letters (channel_id, entry);

  CREATE TABLE kv_buckets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    ttl_ms INTEGER,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE kv_entries (
    bucket_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    revision INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (bucket_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX kv_entries_by_expiry ON kv_entries (expires_at)
    WHERE expires_at IS NOT NULL;

  CREATE TABLE kv_changes (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    value BLOB,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX kv_changes_by_bucket ON kv_changes (bucket_id, revision);
  CREATE INDEX kv_changes_by_age ON kv_changes (updated_at);

  CREATE TABLE object_buckets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE objects (
    bucket_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (bucket_id, name)
  ) WITHOUT ROWID;

  CREATE TABLE idempotency (
    table_name TEXT NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    expiration INTEGER NOT NULL,
    in_progress_expiration INTEGER,
    data TEXT,
    owner TEXT,
    PRIMARY KEY (table_name, id)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_by_expiration ON idempotency (expiration);
  `,
];
