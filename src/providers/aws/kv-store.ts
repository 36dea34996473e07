/**
 * One key-value bucket on its DynamoDB table. Every write is a
 * conditional PutItem or DeleteItem: `create`, `update` and `delete` on
 * a revision are DynamoDB's own compare-and-swap, and `put` keeps the
 * revisions of a key increasing. An expired item counts as absent to
 * every read and every condition.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { PayloadTooLargeError } from '../../core/errors.ts';
import type { KvStore, RawKvEntry, RawKvEvent } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, conflict, PROVIDER } from './errors.ts';
import {
  ATTRIBUTES,
  byKey,
  type Item,
  isLive,
  isRevision,
  liveRevision,
  nextRevision,
  toEntry,
  toItem,
  valueLimit,
} from './kv-items.ts';
import { watchTable } from './kv-watch.ts';
import type { TableTarget } from './tables.ts';

/** The error name of a failed condition. */
const CONDITION_FAILED = 'ConditionalCheckFailedException';

/** Rounds of `put` against writers that keep racing it. */
const MAX_ROUNDS = 20;

/** Names of the attributes, as expressions refer to them. */
const NAMES = {
  '#k': ATTRIBUTES.key,
  '#r': ATTRIBUTES.revision,
  '#e': ATTRIBUTES.expiresAt,
};

/** The item is absent, or present but expired (`:now` in seconds). */
const ABSENT = 'attribute_not_exists(#k) OR #e <= :now';

/** The item is live at revision `:expected`. */
const AT_REVISION =
  '#r = :expected AND (attribute_not_exists(#e) OR #e > :now)';

/**
 * One bucket. Entries of a bucket with a TTL expire `ttlMs` after their
 * last write, rounded up to the second; a read treats an expired entry
 * as absent at once, and DynamoDB removes it later.
 */
export class AwsKvStore implements KvStore {
  readonly #context: AwsContext;
  readonly #target: TableTarget;
  readonly #streamArn: string | undefined;
  readonly #ttlMs: number | undefined;

  constructor(
    context: AwsContext,
    target: TableTarget,
    table: TableDescription,
    ttlMs: number | undefined,
  ) {
    this.#context = context;
    this.#target = target;
    this.#ttlMs = ttlMs;
    const view = table.StreamSpecification?.StreamViewType;
    const enabled = table.StreamSpecification?.StreamEnabled === true;
    this.#streamArn =
      enabled && view === 'NEW_AND_OLD_IMAGES'
        ? table.LatestStreamArn
        : undefined;
  }

  get #bucket(): string {
    return this.#target.resource;
  }

  async get(key: string): Promise<RawKvEntry | undefined> {
    this.#context.lifecycle.check('read a key');
    const item = await this.#read(key);
    return toEntry(item, Date.now());
  }

  async put(key: string, value: Uint8Array): Promise<string> {
    this.#context.lifecycle.check('put a key');
    this.#fits(key, value);

    let after: string | undefined;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const revision = nextRevision(after);
      const found = await this.#write('put a key', key, value, revision, {
        condition: `${ABSENT} OR #r < :revision`,
        values: { ':revision': { N: revision } },
      });
      if (found === undefined) return revision;
      after = found[ATTRIBUTES.revision]?.N;
    }
    throw conflict(
      `key '${key}' in bucket '${this.#bucket}' changed on each of ${MAX_ROUNDS} tries to put it`,
      undefined,
      undefined,
      { bucket: this.#bucket, key },
    );
  }

  async create(key: string, value: Uint8Array): Promise<string> {
    this.#context.lifecycle.check('create a key');
    this.#fits(key, value);
    const revision = nextRevision();

    const found = await this.#write('create a key', key, value, revision, {
      condition: ABSENT,
    });
    if (found === undefined) return revision;

    throw conflict(
      `key '${key}' already exists in bucket '${this.#bucket}'`,
      undefined,
      liveRevision(found, Date.now()),
      { bucket: this.#bucket, key, providerCode: CONDITION_FAILED },
    );
  }

  async update(
    key: string,
    value: Uint8Array,
    revision: string,
  ): Promise<string> {
    this.#context.lifecycle.check('update a key');
    this.#fits(key, value);
    if (!isRevision(revision)) {
      throw this.#mismatch(key, revision, await this.#read(key));
    }
    const next = nextRevision(revision);

    const found = await this.#write('update a key', key, value, next, {
      condition: AT_REVISION,
      values: { ':expected': { N: revision } },
    });
    if (found === undefined) return next;

    throw this.#mismatch(key, revision, found);
  }

  async delete(
    key: string,
    options: { revision?: string } = {},
  ): Promise<void> {
    this.#context.lifecycle.check('delete a key');
    const { revision } = options;
    if (revision !== undefined && !isRevision(revision)) {
      throw this.#mismatch(key, revision, await this.#read(key));
    }

    const conditional = revision !== undefined && {
      ConditionExpression: AT_REVISION,
      ExpressionAttributeNames: { '#r': NAMES['#r'], '#e': NAMES['#e'] },
      ExpressionAttributeValues: {
        ':expected': { N: revision },
        ':now': { N: nowSeconds() },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    try {
      await this.#context.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.#target.table,
          Key: { [ATTRIBUTES.key]: { S: key } },
          ...conditional,
        }),
      );
    } catch (error) {
      if (revision === undefined || awsCode(error) !== CONDITION_FAILED) {
        throw this.#error(error, 'delete a key', key);
      }
      const found = await this.#failedItem(error, key);
      throw this.#mismatch(key, revision, found);
    }
  }

  /** Keys under `prefix`, sorted. Scans the whole table. */
  async *keys(prefix: string): AsyncIterable<string> {
    this.#context.lifecycle.check('list keys');
    const items = await this.#scan(prefix, '#k, #e');
    yield* items.map((item) => item[ATTRIBUTES.key]?.S ?? '').sort(byKey);
  }

  /** Entries under `prefix`, sorted by key. Scans the whole table. */
  async *entries(prefix: string): AsyncIterable<RawKvEntry> {
    this.#context.lifecycle.check('list keys');
    yield* await this.#entries(prefix);
  }

  watch(options: {
    prefix: string;
    signal?: AbortSignal;
  }): AsyncIterable<RawKvEvent> {
    this.#context.lifecycle.check('watch a bucket');
    return watchTable(this.#context, {
      ...options,
      target: this.#target,
      streamArn: this.#streamArn,
      snapshot: () => this.#entries(options.prefix),
      onError: (error, operation) => this.#error(error, operation),
    });
  }

  /** The item of `key`, expired or not, read consistently. */
  async #read(key: string): Promise<Item | undefined> {
    try {
      const { Item: item } = await this.#context.dynamodb.send(
        new GetItemCommand({
          TableName: this.#target.table,
          Key: { [ATTRIBUTES.key]: { S: key } },
          ConsistentRead: true,
        }),
      );
      return item;
    } catch (error) {
      throw this.#error(error, 'read a key', key);
    }
  }

  /**
   * Writes the entry if `condition` holds. Returns undefined once
   * written, or the item found (possibly absent: an empty item) when the
   * condition failed.
   */
  async #write(
    operation: string,
    key: string,
    value: Uint8Array,
    revision: string,
    guard: { condition: string; values?: Record<string, AttributeValue> },
  ): Promise<Item | undefined> {
    const now = Date.now();
    const item = toItem(key, value, revision, now, this.#ttlMs);
    const names = Object.fromEntries(
      Object.entries(NAMES).filter(([name]) => guard.condition.includes(name)),
    );
    try {
      await this.#context.dynamodb.send(
        new PutItemCommand({
          TableName: this.#target.table,
          Item: item,
          ConditionExpression: guard.condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':now': { N: nowSeconds(now) },
            ...guard.values,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (isItemTooLarge(error)) {
        throw this.#tooLarge(key, value, error);
      }
      if (awsCode(error) !== CONDITION_FAILED) {
        throw this.#error(error, operation, key);
      }
      return (await this.#failedItem(error, key)) ?? {};
    }
  }

  /**
   * The item a failed condition reported, or, from a service that does
   * not report it, the item as read now.
   */
  async #failedItem(error: unknown, key: string): Promise<Item | undefined> {
    const reported = (error as { Item?: Item }).Item;
    return reported ?? (await this.#read(key));
  }

  /** The live entries under `prefix`, sorted by key. */
  async #entries(prefix: string): Promise<RawKvEntry[]> {
    const now = Date.now();
    const entries = (await this.#scan(prefix)).flatMap(
      (item) => toEntry(item, now) ?? [],
    );
    return entries.sort((a, b) => byKey(a.key, b.key));
  }

  /**
   * The live items whose keys start with `prefix`, in the table's order,
   * with only the attributes of `projection` when it is given.
   */
  async #scan(prefix: string, projection?: string): Promise<Item[]> {
    const now = Date.now();
    const names: Record<string, string> = {};
    if (projection !== undefined || prefix !== '') names['#k'] = ATTRIBUTES.key;
    if (projection?.includes('#e')) names['#e'] = ATTRIBUTES.expiresAt;
    const found: Item[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.#context.dynamodb.send(
          new ScanCommand({
            TableName: this.#target.table,
            ConsistentRead: true,
            ExclusiveStartKey: start,
            ...(projection !== undefined && {
              ProjectionExpression: projection,
            }),
            ...(prefix !== '' && {
              FilterExpression: 'begins_with(#k, :prefix)',
              ExpressionAttributeValues: { ':prefix': { S: prefix } },
            }),
            ...(Object.keys(names).length > 0 && {
              ExpressionAttributeNames: names,
            }),
          }),
        );
        for (const item of page.Items ?? []) {
          if (isLive(item, now)) found.push(item);
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (error) {
      throw this.#error(error, 'list keys');
    }
    return found;
  }

  /**
   * Throws a PayloadTooLargeError, naming both sizes, for a value that
   * does not fit in one item with its key.
   */
  #fits(key: string, value: Uint8Array): void {
    if (value.byteLength > valueLimit(key)) throw this.#tooLarge(key, value);
  }

  #tooLarge(key: string, value: Uint8Array, cause?: unknown) {
    return new PayloadTooLargeError(value.byteLength, valueLimit(key), {
      what: `value of key '${key}'`,
      cause,
      details: { provider: PROVIDER, bucket: this.#bucket, key },
    });
  }

  #error(error: unknown, operation: string, key?: string) {
    const details =
      key === undefined
        ? { bucket: this.#bucket }
        : { bucket: this.#bucket, key };
    return awsError(error, `${operation} in bucket '${this.#bucket}'`, {
      details,
      notFound: { kind: 'kv-bucket', resource: this.#bucket },
    });
  }

  /** A ConflictError on `revision`, with the revision of `found`. */
  #mismatch(key: string, revision: string, found: Item | undefined) {
    const actual = liveRevision(found, Date.now());
    return conflict(
      `key '${key}' in bucket '${this.#bucket}' is at revision ${actual ?? 'absent'}, not ${revision}`,
      revision,
      actual,
      { bucket: this.#bucket, key, providerCode: CONDITION_FAILED },
    );
  }
}

/**
 * Whether `error` is the service refusing an item as too large, which an
 * endpoint that counts sizes its own way may do below the limit.
 */
function isItemTooLarge(error: unknown): boolean {
  return (
    awsCode(error) === 'ValidationException' &&
    error instanceof Error &&
    /item size/i.test(error.message)
  );
}

/** `now` in seconds since the epoch, as a DynamoDB number. */
function nowSeconds(now = Date.now()): string {
  return String(now / 1000);
}
