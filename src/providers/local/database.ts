/**
 * Opening the SQLite database of a data folder: WAL mode so that readers
 * never wait for the writer and several processes share the file, a busy
 * timeout so that writers of several processes take turns, and the schema
 * brought to the current version.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigurationError } from '../../core/errors.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { PROVIDER, storeError } from './support.ts';

/** An open database connection. */
export type Db = Database.Database;

/** A prepared statement. */
export type Statement = Database.Statement;

/** Name of the database file inside the data folder. */
export const DATABASE_FILE = 'switchyard.db';

/**
 * How long a writer waits for another process to finish its transaction
 * before the operation fails as TransportUnavailableError, in ms.
 */
export const BUSY_TIMEOUT_MS = 10_000;

/** How the database is opened. */
export interface OpenDatabaseOptions {
  dataDir: string;
  synchronous: 'normal' | 'full';
}

/**
 * Opens (creating if absent) the database of `dataDir` and migrates its
 * schema. Throws a ConfigurationError when the folder holds a database
 * written by a newer schema, a TransportUnavailableError when it cannot
 * be opened.
 */
export function openDatabase(options: OpenDatabaseOptions): Db {
  let db: Db;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    db = new Database(join(options.dataDir, DATABASE_FILE));
  } catch (error) {
    throw storeError(error, `opening the data folder ${options.dataDir}`);
  }

  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -16000');
    // Checkpoints (the only fsyncs under synchronous NORMAL) every 16 MiB
    // of log instead of 4, so that heavy publishing pays for fewer.
    db.pragma('wal_autocheckpoint = 4000');
    migrate(db, options.dataDir);
  } catch (error) {
    db.close();
    throw storeError(error, `opening the data folder ${options.dataDir}`);
  }

  return db;
}

/**
 * Applies the migrations the database lacks, in one transaction that
 * holds the write lock, so that of several processes opening a new folder
 * at once exactly one creates the tables.
 */
function migrate(db: Db, dataDir: string): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new ConfigurationError(
        `data folder ${dataDir} was written by a newer version of Switchyard (schema ${version}, this one knows up to ${SCHEMA_VERSION})`,
        { field: 'dataDir', value: dataDir, details: { provider: PROVIDER } },
      );
    }
    for (let next = version; next < SCHEMA_VERSION; next++) {
      db.exec(MIGRATIONS[next]!);
    }
    if (version !== SCHEMA_VERSION) {
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  });
  apply.immediate();
}

/** The highest message sequence ever given, 0 before the first message. */
export function lastSequence(db: Db): number {
  const row = db
    .prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")
    .get() as { seq: number } | undefined;
  return row?.seq ?? 0;
}
