/**
 * Object buckets: contents in files under `{dataDir}/objects/{bucket}/`,
 * one file per write named by its etag, and each object's metadata in
 * SQLite. A put writes its file first and then, in one transaction that
 * checks `ifAbsent` or `ifEtag`, points the object at it, so conditional
 * writes are safe across processes and a put is atomic as a whole.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ObjectInfo,
  ObjectPutOptions,
  ObjectStore,
  ObjectTransport,
} from '../../core/provider.ts';
import type { LocalContext } from './context.ts';
import type { Statement } from './database.ts';
import {
  newEtag,
  readContent,
  removeContent,
  removeFolder,
  removeLeftovers,
  writeContent,
} from './object-files.ts';
import { conflict, notFound, prefixEnd, read, storeError } from './support.ts';

/** Objects listed per page. */
const PAGE = 500;

/** Files holding no object are removed once this old, in ms. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

interface ObjectRow {
  name: string;
  etag: string;
  size: number;
  content_type: string;
  metadata: string;
  updated_at: number;
}

/** The object buckets of one data folder. */
export class LocalObjects implements ObjectTransport {
  readonly #context: LocalContext;
  readonly #swept = new Set<string>();

  constructor(context: LocalContext) {
    this.#context = context;
  }

  async open(
    bucket: string,
    options: { create: boolean },
  ): Promise<ObjectStore> {
    this.#context.lifecycle.check('open an object bucket');
    const { db } = this.#context;
    const select = db.prepare('SELECT id FROM object_buckets WHERE name = ?');

    let row = read('open an object bucket', () => select.get(bucket)) as
      | { id: number }
      | undefined;
    if (row === undefined) {
      if (!options.create) {
        throw notFound('object-bucket', bucket, { bucket });
      }
      row = await this.#context.writer.run('create object bucket', () => {
        db.prepare(
          `INSERT INTO object_buckets (name, created_at) VALUES (?, ?)
           ON CONFLICT (name) DO NOTHING`,
        ).run(bucket, Date.now());
        return select.get(bucket) as { id: number };
      });
    }
    const dir = this.#folder(bucket);
    await mkdir(dir, { recursive: true });

    const store = new LocalObjectStore(this.#context, bucket, row.id, dir);
    if (!this.#swept.has(bucket)) {
      this.#swept.add(bucket);
      await removeLeftovers(dir, (etag) => store.holds(etag), LEFTOVER_AGE_MS);
    }
    return store;
  }

  async list(): Promise<string[]> {
    this.#context.lifecycle.check('list object buckets');
    const rows = read('list object buckets', () =>
      this.#context.db
        .prepare('SELECT name FROM object_buckets ORDER BY name')
        .all(),
    ) as { name: string }[];
    return rows.map((row) => row.name);
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete an object bucket');
    const { db } = this.#context;

    const existed = await this.#context.writer.run(
      'delete object bucket',
      () => {
        const row = db
          .prepare('SELECT id FROM object_buckets WHERE name = ?')
          .get(bucket) as { id: number } | undefined;
        if (row === undefined) return false;
        db.prepare('DELETE FROM objects WHERE bucket_id = ?').run(row.id);
        db.prepare('DELETE FROM object_buckets WHERE id = ?').run(row.id);
        return true;
      },
    );
    if (existed) await removeFolder(this.#folder(bucket));
  }

  #folder(bucket: string): string {
    return join(this.#context.options.dataDir, 'objects', bucket);
  }
}

/**
 * One object bucket. The body `get` returns for an object over 64 KiB
 * streams from the open file: read it to its end (or return its
 * iterator) to release the file.
 */
class LocalObjectStore implements ObjectStore {
  readonly #context: LocalContext;
  readonly #name: string;
  readonly #id: number;
  readonly #dir: string;
  readonly #exists: Statement;
  readonly #row: Statement;
  readonly #holds: Statement;
  readonly #page: Statement;
  readonly #upsert: Statement;
  readonly #remove: Statement;

  constructor(context: LocalContext, name: string, id: number, dir: string) {
    const { db } = context;
    this.#context = context;
    this.#name = name;
    this.#id = id;
    this.#dir = dir;
    this.#exists = db.prepare('SELECT 1 FROM object_buckets WHERE id = ?');
    this.#row = db.prepare(
      `SELECT name, etag, size, content_type, metadata, updated_at
       FROM objects WHERE bucket_id = ? AND name = ?`,
    );
    this.#holds = db.prepare(
      'SELECT 1 FROM objects WHERE bucket_id = ? AND etag = ?',
    );
    this.#page = db.prepare(
      `SELECT name, etag, size, content_type, metadata, updated_at
       FROM objects WHERE bucket_id = ? AND name >= ? AND name < ?
       ORDER BY name LIMIT ?`,
    );
    this.#upsert = db.prepare(
      `INSERT INTO objects (bucket_id, name, etag, size, content_type,
         metadata, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (bucket_id, name) DO UPDATE SET etag = excluded.etag,
         size = excluded.size, content_type = excluded.content_type,
         metadata = excluded.metadata, updated_at = excluded.updated_at`,
    );
    this.#remove = db.prepare(
      'DELETE FROM objects WHERE bucket_id = ? AND name = ?',
    );
  }

  /** Whether some object's content is the file `etag`. */
  holds(etag: string): boolean {
    return this.#holds.get(this.#id, etag) !== undefined;
  }

  async put(
    name: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: ObjectPutOptions,
  ): Promise<ObjectInfo> {
    this.#context.lifecycle.check('write an object');
    // Checked before the body is written, to spare a write bound to fail,
    // and again when the object is switched to the new content.
    this.#check(name, options, this.#current(name));

    const etag = newEtag();
    const durable = this.#context.options.synchronous === 'full';
    const size = await writeContent(this.#dir, etag, body, durable).catch(
      (error: unknown) => {
        throw this.#fileError(error, 'write object');
      },
    );
    const info: ObjectInfo = {
      name,
      size,
      etag,
      contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: { ...(options.metadata ?? {}) },
      updatedAt: Date.now(),
    };

    let replaced: string | undefined;
    try {
      replaced = await this.#context.writer.run('write object', () => {
        this.#requireBucket();
        const current = this.#current(name);
        this.#check(name, options, current);
        this.#upsert.run(
          this.#id,
          name,
          etag,
          size,
          info.contentType,
          JSON.stringify(info.metadata),
          info.updatedAt,
        );
        return current?.etag;
      });
    } catch (error) {
      await removeContent(this.#dir, etag).catch(() => {});
      throw error;
    }
    if (replaced !== undefined) {
      await removeContent(this.#dir, replaced).catch(() => {});
    }

    return info;
  }

  async get(
    name: string,
  ): Promise<
    { info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined
  > {
    this.#context.lifecycle.check('read an object');

    // A newer write may remove the file between reading the row and
    // opening it; the row is then read again.
    for (;;) {
      const row = this.#current(name);
      if (row === undefined) return undefined;
      const body = await readContent(this.#dir, row.etag, row.size).catch(
        (error: unknown) => {
          throw this.#fileError(error, 'read object');
        },
      );
      if (body !== undefined) return { info: toInfo(row), body };
      if (this.#current(name)?.etag === row.etag) {
        throw notFound('object', name, { bucket: this.#name });
      }
    }
  }

  async head(name: string): Promise<ObjectInfo | undefined> {
    this.#context.lifecycle.check('read an object');
    const row = this.#current(name);
    return row === undefined ? undefined : toInfo(row);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.#context.lifecycle.check('list objects');
    const end = prefix === '' ? '\u{10FFFF}' : prefixEnd(prefix);

    let from = prefix;
    for (;;) {
      const rows = read(
        'list objects',
        () => this.#page.all(this.#id, from, end, PAGE) as ObjectRow[],
      );
      for (const row of rows) yield toInfo(row);
      if (rows.length < PAGE) return;
      // Names hold no NUL, so this is the first name after the last one.
      from = `${rows[rows.length - 1]!.name}\u0000`;
    }
  }

  async delete(
    name: string,
    options: { ifEtag?: string } = {},
  ): Promise<boolean> {
    this.#context.lifecycle.check('delete an object');

    const removed = await this.#context.writer.run('delete object', () => {
      this.#requireBucket();
      const current = this.#current(name);
      if (options.ifEtag !== undefined) {
        this.#check(name, { ifEtag: options.ifEtag }, current);
      }
      if (current === undefined) return undefined;
      this.#remove.run(this.#id, name);
      return current.etag;
    });
    if (removed === undefined) return false;

    await removeContent(this.#dir, removed).catch(() => {});
    return true;
  }

  #current(name: string): ObjectRow | undefined {
    return read(
      'read an object',
      () => this.#row.get(this.#id, name) as ObjectRow | undefined,
    );
  }

  /**
   * A filesystem failure as a Switchyard error: NotFoundError when the
   * bucket was deleted meanwhile. Errors of the caller's own body stream
   * pass through unchanged.
   */
  #fileError(error: unknown, operation: string): unknown {
    if ((error as { syscall?: unknown })?.syscall === undefined) return error;
    if (this.#exists.get(this.#id) === undefined) {
      return notFound('object-bucket', this.#name, { bucket: this.#name });
    }
    return storeError(error, operation);
  }

  #requireBucket(): void {
    if (this.#exists.get(this.#id) === undefined) {
      throw notFound('object-bucket', this.#name, { bucket: this.#name });
    }
  }

  #check(
    name: string,
    options: { ifAbsent?: boolean; ifEtag?: string },
    current: ObjectRow | undefined,
  ): void {
    const details = { bucket: this.#name, key: name };
    if (options.ifAbsent && current !== undefined) {
      throw conflict(
        `object '${name}' already exists in bucket '${this.#name}'`,
        undefined,
        current.etag,
        details,
      );
    }
    if (options.ifEtag !== undefined && current?.etag !== options.ifEtag) {
      throw conflict(
        `object '${name}' in bucket '${this.#name}' has etag ${current?.etag ?? 'none (absent)'}, not ${options.ifEtag}`,
        options.ifEtag,
        current?.etag,
        details,
      );
    }
  }
}

function toInfo(row: ObjectRow): ObjectInfo {
  return {
    name: row.name,
    size: row.size,
    etag: row.etag,
    contentType: row.content_type,
    metadata: JSON.parse(row.metadata),
    updatedAt: row.updated_at,
  };
}
