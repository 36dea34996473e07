/**
 * Idempotency records on JetStream KV: one KV bucket per table, one key
 * per record (the record id in base64url, since ids hold characters a
 * key may not), its value the record as JSON in the layout AWS Lambda
 * Powertools uses. Every change is a compare-and-swap on the key's
 * revision: `begin` creates an absent record (`kv.create`) or takes over
 * an expired one or a lapsed lease with `kv.update` on the revision it
 * read, so of callers that race exactly one acquires; `complete`,
 * `extend` and `release` write only on the revision at which they found
 * the caller holding the lease.
 *
 * Records are not removed when they expire: an expired record counts as
 * absent and is overwritten by the next `begin` of its id.
 */
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type {
  BeginOutcome,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyTransport,
} from '../../core/provider.ts';
import { recordNotHeld } from '../../core/provider-kit.ts';
import type { NatsContext } from './connection.ts';
import { API_CODES, apiCode, conflict, natsError, PROVIDER } from './errors.ts';
import { openKvBucket } from './kv.ts';
import { idempotencyBucket } from './names.ts';

/** Compare-and-swap rounds before an operation gives up. */
const MAX_ROUNDS = 50;

/**
 * A record as read (undefined when absent or expired), with the revision
 * of the key's last write to write it back on (0: never written).
 */
interface Read {
  record: IdempotencyRecord | undefined;
  revision: number;
}

/** A read of a record that is present. */
interface Held extends Read {
  record: IdempotencyRecord;
}

/** Idempotency tables, each a KV bucket. */
export class NatsIdempotency implements IdempotencyTransport {
  readonly #context: NatsContext;
  readonly #kvm: Kvm;

  constructor(context: NatsContext) {
    this.#context = context;
    this.#kvm = new Kvm(context.js);
  }

  async open(table: string): Promise<IdempotencyStore> {
    this.#context.lifecycle.check('open an idempotency table');
    const kv = await openKvBucket(
      this.#context,
      this.#kvm,
      idempotencyBucket(this.#context.options, table),
      { create: true, kind: 'kv-bucket', resource: table },
    );
    return new NatsIdempotencyStore(this.#context, kv, table);
  }
}

/**
 * One table. A record is held by `owner` while it is INPROGRESS under
 * that owner; a lapsed lease can be taken over by `begin`, and until it
 * is, its owner may still complete, extend or release it.
 */
class NatsIdempotencyStore implements IdempotencyStore {
  readonly #context: NatsContext;
  readonly #kv: KV;
  readonly #table: string;

  constructor(context: NatsContext, kv: KV, table: string) {
    this.#context = context;
    this.#kv = kv;
    this.#table = table;
  }

  async begin(
    id: string,
    options: { owner: string; leaseMs: number; ttlMs: number },
  ): Promise<BeginOutcome> {
    this.#context.lifecycle.check('begin an idempotency record');

    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const now = Date.now();
      const found = await this.#read(id, now);
      const record = found.record;
      if (record?.status === 'COMPLETED') {
        return record.data === undefined
          ? { status: 'completed' }
          : { status: 'completed', data: record.data };
      }
      const until = record?.inProgressExpiration ?? 0;
      if (record !== undefined && until > now) {
        return { status: 'in-progress', until };
      }

      const acquired: IdempotencyRecord = {
        id,
        status: 'INPROGRESS',
        expiration: expiration(now, options.ttlMs),
        inProgressExpiration: now + options.leaseMs,
        owner: options.owner,
      };
      if (await this.#swap(id, acquired, found.revision)) {
        return { status: 'acquired' };
      }
    }
    throw this.#contended(id, options.owner);
  }

  async complete(
    id: string,
    options: { owner: string; data?: string; ttlMs: number },
  ): Promise<void> {
    await this.#change('complete', id, options.owner, (record, now) => {
      const completed: IdempotencyRecord = {
        id: record.id,
        status: 'COMPLETED',
        expiration: expiration(now, options.ttlMs),
      };
      if (options.data !== undefined) completed.data = options.data;
      return completed;
    });
  }

  async extend(
    id: string,
    options: { owner: string; leaseMs: number },
  ): Promise<void> {
    await this.#change('extend', id, options.owner, (record, now) => ({
      ...record,
      inProgressExpiration: now + options.leaseMs,
    }));
  }

  async release(id: string, options: { owner: string }): Promise<void> {
    this.#context.lifecycle.check('release an idempotency record');

    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const found = await this.#read(id, Date.now());
      if (!heldBy(found, options.owner)) return;
      if (await this.#swap(id, undefined, found.revision)) return;
    }
    throw this.#contended(id, options.owner);
  }

  async get(id: string): Promise<IdempotencyRecord | undefined> {
    this.#context.lifecycle.check('read an idempotency record');
    return (await this.#read(id, Date.now())).record;
  }

  /**
   * Rewrites the record with `next` if `owner` holds it, on the revision
   * at which it was found held; ConflictError if it is not held.
   */
  async #change(
    operation: string,
    id: string,
    owner: string,
    next: (record: IdempotencyRecord, now: number) => IdempotencyRecord,
  ): Promise<void> {
    this.#context.lifecycle.check(`${operation} an idempotency record`);

    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const now = Date.now();
      const found = await this.#read(id, now);
      if (!heldBy(found, owner)) throw this.#notHeld(id, owner, found);
      if (await this.#swap(id, next(found.record, now), found.revision)) {
        return;
      }
    }
    throw this.#contended(id, owner);
  }

  /** The record, unless absent or expired, and the key's revision. */
  async #read(id: string, now: number): Promise<Read> {
    const entry = await this.#entry(id);
    if (entry === undefined) return { record: undefined, revision: 0 };
    const record = parse(entry);
    const live = record !== undefined && record.expiration * 1000 > now;
    return { record: live ? record : undefined, revision: entry.revision };
  }

  async #entry(id: string): Promise<KvEntry | undefined> {
    try {
      const entry = await this.#kv.get(keyOf(id));
      return entry === null ? undefined : entry;
    } catch (error) {
      throw this.#error(error, 'read an idempotency record', id);
    }
  }

  /**
   * Writes `record` (or deletes the key, for undefined) only if the key
   * is still at `revision` (0: never written). Whether it was written.
   */
  async #swap(
    id: string,
    record: IdempotencyRecord | undefined,
    revision: number,
  ): Promise<boolean> {
    const key = keyOf(id);
    try {
      if (record === undefined) {
        await this.#kv.delete(key, { previousSeq: revision });
      } else if (revision === 0) {
        await this.#kv.create(key, encode(record));
      } else {
        await this.#kv.update(key, encode(record), revision);
      }
      return true;
    } catch (error) {
      if (apiCode(error) === API_CODES.wrongLastSequence) return false;
      throw this.#error(error, 'write an idempotency record', id);
    }
  }

  #error(error: unknown, operation: string, id: string) {
    return natsError(error, `${operation} in table '${this.#table}'`, {
      details: { table: this.#table, key: id },
      notFound: { kind: 'kv-bucket', resource: this.#table },
    });
  }

  #notHeld(id: string, owner: string, found: Read) {
    return recordNotHeld(
      PROVIDER,
      { table: this.#table, id },
      owner,
      found.record,
    );
  }

  #contended(id: string, owner: string) {
    return conflict(
      `idempotency record '${id}' in table '${this.#table}' changed on each of ${MAX_ROUNDS} tries by ${owner}`,
      owner,
      undefined,
      { table: this.#table, key: id },
    );
  }
}

function heldBy(found: Read, owner: string): found is Held {
  return found.record?.status === 'INPROGRESS' && found.record.owner === owner;
}

/** The KV key of record `id`. */
function keyOf(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function encode(record: IdempotencyRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The record an entry holds; undefined for a delete or a foreign value. */
function parse(entry: KvEntry): IdempotencyRecord | undefined {
  if (entry.operation !== 'PUT') return undefined;
  try {
    const record = JSON.parse(new TextDecoder().decode(entry.value));
    const valid =
      typeof record === 'object' &&
      record !== null &&
      (record.status === 'INPROGRESS' || record.status === 'COMPLETED') &&
      typeof record.expiration === 'number';
    return valid ? (record as IdempotencyRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The expiration of a record written at `now`, in seconds. */
function expiration(now: number, ttlMs: number): number {
  return Math.ceil((now + ttlMs) / 1000);
}
