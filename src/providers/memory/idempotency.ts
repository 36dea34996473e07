/** Idempotency tables of the memory provider. */
import type {
  BeginOutcome,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyTransport,
} from '../../core/provider.ts';
import { conflict, type Lifecycle } from './support.ts';

/** One table: records by id, shared by the instances of a namespace. */
export type IdempotencyTable = Map<string, IdempotencyRecord>;

/**
 * Creates the idempotency transport of one provider instance. Each
 * operation reads and writes its record in one synchronous step, so of
 * two callers that race, exactly one acquires. A record whose
 * `expiration` has passed counts as absent. `complete` and `extend`
 * succeed for the owner until someone else acquires the record, even
 * when its lease has lapsed meanwhile; `release` by anyone else than the
 * owner changes nothing.
 */
export function createMemoryIdempotency(
  tables: Map<string, IdempotencyTable>,
  lifecycle: Lifecycle,
): IdempotencyTransport {
  return {
    async open(table: string): Promise<IdempotencyStore> {
      lifecycle.check('open an idempotency table');
      if (!tables.has(table)) tables.set(table, new Map());

      return createStore(table, tables, lifecycle);
    },
  };
}

function createStore(
  name: string,
  tables: Map<string, IdempotencyTable>,
  lifecycle: Lifecycle,
): IdempotencyStore {
  const table = (operation: string): IdempotencyTable => {
    lifecycle.check(operation);
    let records = tables.get(name);
    if (records === undefined) {
      // Dropped with its namespace: start again empty, as `open` would.
      records = new Map();
      tables.set(name, records);
    }
    return records;
  };
  const live = (records: IdempotencyTable, id: string, now: number) => {
    const record = records.get(id);
    if (record !== undefined && record.expiration * 1000 <= now) {
      records.delete(id);
      return undefined;
    }
    return record;
  };
  const held = (id: string, owner: string, operation: string) => {
    const record = live(table(operation), id, Date.now());
    if (record?.status !== 'INPROGRESS' || record.owner !== owner) {
      throw conflict(
        `idempotency record '${id}' of table '${name}' is not held by '${owner}'`,
        owner,
        record?.owner ?? record?.status,
        { table: name, key: id },
      );
    }
    return record;
  };

  return {
    async begin(id, { owner, leaseMs, ttlMs }): Promise<BeginOutcome> {
      const records = table('begin an idempotency record');
      const now = Date.now();
      const record = live(records, id, now);
      if (record?.status === 'COMPLETED') {
        return record.data === undefined
          ? { status: 'completed' }
          : { status: 'completed', data: record.data };
      }
      const until = record?.inProgressExpiration ?? 0;
      if (record !== undefined && until > now) {
        return { status: 'in-progress', until };
      }

      records.set(id, {
        id,
        status: 'INPROGRESS',
        expiration: expiresAt(now, Math.max(ttlMs, leaseMs)),
        inProgressExpiration: now + leaseMs,
        owner,
      });
      return { status: 'acquired' };
    },

    async complete(id, { owner, data, ttlMs }): Promise<void> {
      held(id, owner, 'complete an idempotency record');
      const completed: IdempotencyRecord = {
        id,
        status: 'COMPLETED',
        expiration: expiresAt(Date.now(), ttlMs),
      };
      if (data !== undefined) completed.data = data;
      table('complete an idempotency record').set(id, completed);
    },

    async extend(id, { owner, leaseMs }): Promise<void> {
      const record = held(id, owner, 'extend an idempotency record');
      const now = Date.now();
      record.inProgressExpiration = now + leaseMs;
      record.expiration = Math.max(record.expiration, expiresAt(now, leaseMs));
    },

    async release(id, { owner }): Promise<void> {
      const records = table('release an idempotency record');
      const record = live(records, id, Date.now());
      if (record?.status === 'INPROGRESS' && record.owner === owner) {
        records.delete(id);
      }
    },

    async get(id): Promise<IdempotencyRecord | undefined> {
      const record = live(table('read an idempotency record'), id, Date.now());
      return record === undefined ? undefined : { ...record };
    },
  };
}

/** Seconds since the epoch, rounded up so that no record expires early. */
function expiresAt(now: number, ttlMs: number): number {
  return Math.ceil((now + ttlMs) / 1000);
}
