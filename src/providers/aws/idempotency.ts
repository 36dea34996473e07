/**
 * Idempotency records on DynamoDB, in the table layout of AWS Lambda
 * Powertools, so that one table serves both: partition key `id` (S),
 * `status` (`INPROGRESS` or `COMPLETED`), `expiration` (N, seconds since
 * the epoch, the table's TTL attribute), `in_progress_expiration` (N, ms)
 * and `data` (S, the JSON result); the holder of a lease is kept in
 * `owner`, an attribute Powertools ignores.
 *
 * Every operation is one conditional write: `begin` puts the record if
 * it is absent, expired or an INPROGRESS record whose lease lapsed, so of
 * callers that race exactly one acquires; `complete`, `extend` and
 * `release` write only while the caller holds the lease. A record counts
 * as expired once the second after its `expiration` has begun, as
 * Powertools counts it; DynamoDB removes it later.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  BeginOutcome,
  IdempotencyRecord,
  IdempotencyStore,
  IdempotencyTransport,
} from '../../core/provider.ts';
import { recordNotHeld } from '../../core/provider-kit.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, conflict, PROVIDER } from './errors.ts';
import { openTable, type TableTarget } from './tables.ts';

/** Attribute names of a record, as Powertools names them. */
export const RECORD_ATTRIBUTES = {
  id: 'id',
  status: 'status',
  expiration: 'expiration',
  inProgressExpiration: 'in_progress_expiration',
  data: 'data',
  owner: 'owner',
} as const;

/** Rounds of `begin` against records that keep changing under it. */
const MAX_ROUNDS = 20;

/** The error name of a failed condition. */
const CONDITION_FAILED = 'ConditionalCheckFailedException';

/** Names of the attributes, as expressions refer to them. */
const NAMES = {
  '#id': RECORD_ATTRIBUTES.id,
  '#status': RECORD_ATTRIBUTES.status,
  '#expiration': RECORD_ATTRIBUTES.expiration,
  '#lease': RECORD_ATTRIBUTES.inProgressExpiration,
  '#data': RECORD_ATTRIBUTES.data,
  '#owner': RECORD_ATTRIBUTES.owner,
};

/**
 * The record may be taken: absent, expired (`:now` in seconds) or in
 * progress under a lapsed lease (`:nowMs`).
 */
const TAKEABLE =
  'attribute_not_exists(#id) OR #expiration < :now OR ' +
  '(#status = :inProgress AND #lease < :nowMs)';

/** `:owner` holds the lease of a record that has not expired. */
const HELD =
  '#status = :inProgress AND #owner = :owner AND #expiration >= :now';

type Item = Record<string, AttributeValue>;

/** Idempotency tables, each a DynamoDB table. */
export class AwsIdempotency implements IdempotencyTransport {
  readonly #context: AwsContext;

  constructor(context: AwsContext) {
    this.#context = context;
  }

  /**
   * Opens table `table` (with the provider's prefix), creating it when
   * absent with on-demand billing and TTL on `expiration`.
   */
  async open(table: string): Promise<IdempotencyStore> {
    this.#context.lifecycle.check('open an idempotency table');
    const target: TableTarget = {
      table: this.#context.resourceName(table),
      kind: 'kv-bucket',
      resource: table,
      details: { table },
    };
    const spec = {
      key: RECORD_ATTRIBUTES.id,
      ttlAttribute: RECORD_ATTRIBUTES.expiration,
    };

    await openTable(this.#context, target, spec, true);
    return new AwsIdempotencyStore(this.#context, target);
  }
}

/**
 * One table. A record is held by `owner` while it is INPROGRESS under
 * that owner; a lapsed lease can be taken over by `begin`, and until it
 * is, its owner may still complete, extend or release it.
 */
class AwsIdempotencyStore implements IdempotencyStore {
  readonly #context: AwsContext;
  readonly #target: TableTarget;

  constructor(context: AwsContext, target: TableTarget) {
    this.#context = context;
    this.#target = target;
  }

  get #table(): string {
    return this.#target.resource;
  }

  async begin(
    id: string,
    options: { owner: string; leaseMs: number; ttlMs: number },
  ): Promise<BeginOutcome> {
    this.#context.lifecycle.check('begin an idempotency record');

    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const now = Date.now();
      const found = await this.#acquire(id, options, now);
      if (found === undefined) return { status: 'acquired' };

      // The record was found between the failed condition and now: one
      // that has expired or lapsed since is tried again.
      const record = live(found, Date.now());
      if (record?.status === 'COMPLETED') {
        return record.data === undefined
          ? { status: 'completed' }
          : { status: 'completed', data: record.data };
      }
      const until = record?.inProgressExpiration ?? 0;
      if (record !== undefined && until >= Date.now()) {
        return { status: 'in-progress', until };
      }
    }
    throw conflict(
      `idempotency record '${id}' in table '${this.#table}' changed on each of ${MAX_ROUNDS} tries by ${options.owner}`,
      options.owner,
      undefined,
      { table: this.#table, key: id },
    );
  }

  async complete(
    id: string,
    options: { owner: string; data?: string; ttlMs: number },
  ): Promise<void> {
    const now = Date.now();
    const data = options.data === undefined ? '' : ', #data = :data';
    await this.#holding('complete', id, options.owner, now, {
      UpdateExpression:
        `SET #status = :completed, #expiration = :expiration${data} ` +
        `REMOVE #lease, #owner${options.data === undefined ? ', #data' : ''}`,
      ExpressionAttributeValues: {
        ':completed': { S: 'COMPLETED' },
        ':expiration': { N: String(expiration(now, options.ttlMs)) },
        ...(options.data !== undefined && { ':data': { S: options.data } }),
      },
    });
  }

  async extend(
    id: string,
    options: { owner: string; leaseMs: number },
  ): Promise<void> {
    const now = Date.now();
    await this.#holding('extend', id, options.owner, now, {
      UpdateExpression: 'SET #lease = :until',
      ExpressionAttributeValues: {
        ':until': { N: String(now + options.leaseMs) },
      },
    });
  }

  /** Removes the record if `owner` holds it; otherwise does nothing. */
  async release(id: string, options: { owner: string }): Promise<void> {
    this.#context.lifecycle.check('release an idempotency record');
    try {
      await this.#context.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.#target.table,
          Key: { [RECORD_ATTRIBUTES.id]: { S: id } },
          ConditionExpression: '#status = :inProgress AND #owner = :owner',
          ExpressionAttributeNames: {
            '#status': NAMES['#status'],
            '#owner': NAMES['#owner'],
          },
          ExpressionAttributeValues: {
            ':inProgress': { S: 'INPROGRESS' },
            ':owner': { S: options.owner },
          },
        }),
      );
    } catch (error) {
      if (awsCode(error) === CONDITION_FAILED) return;
      throw this.#error(error, 'release an idempotency record', id);
    }
  }

  async get(id: string): Promise<IdempotencyRecord | undefined> {
    this.#context.lifecycle.check('read an idempotency record');
    return live(await this.#read(id), Date.now());
  }

  /**
   * Puts an INPROGRESS record for `options.owner` if the record may be
   * taken. Undefined once acquired; the record found otherwise.
   */
  async #acquire(
    id: string,
    options: { owner: string; leaseMs: number; ttlMs: number },
    now: number,
  ): Promise<Item | undefined> {
    try {
      await this.#context.dynamodb.send(
        new PutItemCommand({
          TableName: this.#target.table,
          Item: {
            [RECORD_ATTRIBUTES.id]: { S: id },
            [RECORD_ATTRIBUTES.status]: { S: 'INPROGRESS' },
            [RECORD_ATTRIBUTES.expiration]: {
              N: String(expiration(now, options.ttlMs)),
            },
            [RECORD_ATTRIBUTES.inProgressExpiration]: {
              N: String(now + options.leaseMs),
            },
            [RECORD_ATTRIBUTES.owner]: { S: options.owner },
          },
          ConditionExpression: TAKEABLE,
          ExpressionAttributeNames: {
            '#id': NAMES['#id'],
            '#status': NAMES['#status'],
            '#expiration': NAMES['#expiration'],
            '#lease': NAMES['#lease'],
          },
          ExpressionAttributeValues: {
            ':now': { N: String(seconds(now)) },
            ':nowMs': { N: String(now) },
            ':inProgress': { S: 'INPROGRESS' },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (awsCode(error) !== CONDITION_FAILED) {
        throw this.#error(error, 'begin an idempotency record', id);
      }
      return (await this.#failedItem(error, id)) ?? {};
    }
  }

  /**
   * Applies `update` to the record if `owner` holds its lease;
   * ConflictError, naming who holds it, otherwise.
   */
  async #holding(
    operation: string,
    id: string,
    owner: string,
    now: number,
    update: {
      UpdateExpression: string;
      ExpressionAttributeValues: Item;
    },
  ): Promise<void> {
    this.#context.lifecycle.check(`${operation} an idempotency record`);
    const expression = `${HELD} ${update.UpdateExpression}`;
    const names = Object.fromEntries(
      Object.entries(NAMES).filter(([name]) => expression.includes(name)),
    );
    try {
      await this.#context.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.#target.table,
          Key: { [RECORD_ATTRIBUTES.id]: { S: id } },
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: HELD,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':inProgress': { S: 'INPROGRESS' },
            ':owner': { S: owner },
            ':now': { N: String(seconds(now)) },
            ...update.ExpressionAttributeValues,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (awsCode(error) !== CONDITION_FAILED) {
        throw this.#error(error, `${operation} an idempotency record`, id);
      }
      const found = live(await this.#failedItem(error, id), Date.now());
      throw this.#notHeld(id, owner, found);
    }
  }

  /** The item of `id`, expired or not, read consistently. */
  async #read(id: string): Promise<Item | undefined> {
    try {
      const { Item: item } = await this.#context.dynamodb.send(
        new GetItemCommand({
          TableName: this.#target.table,
          Key: { [RECORD_ATTRIBUTES.id]: { S: id } },
          ConsistentRead: true,
        }),
      );
      return item;
    } catch (error) {
      throw this.#error(error, 'read an idempotency record', id);
    }
  }

  /**
   * The item a failed condition reported, or, from a service that does
   * not report it, the item as read now.
   */
  async #failedItem(error: unknown, id: string): Promise<Item | undefined> {
    const reported = (error as { Item?: Item }).Item;
    return reported ?? (await this.#read(id));
  }

  #error(error: unknown, operation: string, id: string) {
    return awsError(error, `${operation} in table '${this.#table}'`, {
      details: { table: this.#table, key: id },
      notFound: { kind: 'kv-bucket', resource: this.#table },
    });
  }

  #notHeld(id: string, owner: string, record: IdempotencyRecord | undefined) {
    return recordNotHeld(PROVIDER, { table: this.#table, id }, owner, record, {
      providerCode: CONDITION_FAILED,
    });
  }
}

/**
 * The record `item` holds, unless it is absent, expired at `now` or not
 * a record in the Powertools layout.
 */
function live(
  item: Item | undefined,
  now: number,
): IdempotencyRecord | undefined {
  const id = item?.[RECORD_ATTRIBUTES.id]?.S;
  const status = item?.[RECORD_ATTRIBUTES.status]?.S;
  const expires = Number(item?.[RECORD_ATTRIBUTES.expiration]?.N);
  if (item === undefined || id === undefined) return undefined;
  if (status !== 'INPROGRESS' && status !== 'COMPLETED') return undefined;
  if (!Number.isFinite(expires) || expires < seconds(now)) return undefined;

  const record: IdempotencyRecord = { id, status, expiration: expires };
  const lease = item[RECORD_ATTRIBUTES.inProgressExpiration]?.N;
  if (lease !== undefined) record.inProgressExpiration = Number(lease);
  const data = item[RECORD_ATTRIBUTES.data]?.S;
  if (data !== undefined) record.data = data;
  const owner = item[RECORD_ATTRIBUTES.owner]?.S;
  if (owner !== undefined) record.owner = owner;
  return record;
}

/** `now` in whole seconds since the epoch, as Powertools compares it. */
function seconds(now: number): number {
  return Math.floor(now / 1000);
}

/** The expiration of a record written at `now`, in seconds. */
function expiration(now: number, ttlMs: number): number {
  return Math.ceil((now + ttlMs) / 1000);
}
