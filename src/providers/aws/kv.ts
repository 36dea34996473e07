/**
 * Key-value buckets on DynamoDB: one table per bucket, named with the
 * provider's prefix, whose items are laid out as `kv-items.ts` says and
 * written as `kv-store.ts` does.
 */
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { ConfigurationError } from '../../core/errors.ts';
import type { KvStore, KvTransport } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { PROVIDER } from './errors.ts';
import { ATTRIBUTES } from './kv-items.ts';
import { AwsKvStore } from './kv-store.ts';
import {
  deleteTable,
  describeTable,
  listTables,
  openTable,
  type TableTarget,
  tableTags,
} from './tables.ts';

/** Tag of a bucket's table that holds the bucket's TTL in ms. */
export const TTL_TAG = 'switchyard:ttl-ms';

/**
 * The key-value buckets of one account and region. A bucket's table is
 * created, with a stream of new and old images and TTL on `expiresAt`,
 * when it is opened with `create`; it keeps the TTL it was created with
 * (the `switchyard:ttl-ms` tag), and opening it again with another
 * `ttlMs` does not change it.
 */
export class AwsKv implements KvTransport {
  readonly #context: AwsContext;

  constructor(context: AwsContext) {
    this.#context = context;
  }

  async open(
    bucket: string,
    options: { create: boolean; ttlMs?: number },
  ): Promise<KvStore> {
    this.#context.lifecycle.check('open a key-value bucket');
    const target = this.#target(bucket);
    const spec = {
      key: ATTRIBUTES.key,
      ttlAttribute: ATTRIBUTES.expiresAt,
      stream: true,
      ...(options.ttlMs !== undefined && {
        tags: { [TTL_TAG]: String(options.ttlMs) },
      }),
    };

    const table = await openTable(this.#context, target, spec, options.create);
    if (!isKvTable(table)) {
      throw new ConfigurationError(
        `table '${target.table}' cannot hold bucket '${bucket}': its partition key is not a string named '${ATTRIBUTES.key}'`,
        {
          field: 'bucket',
          value: bucket,
          details: { provider: PROVIDER, ...target.details },
        },
      );
    }
    const tags = await tableTags(this.#context, target, table);
    const ttlMs = parseTtl(tags[TTL_TAG]);

    return new AwsKvStore(this.#context, target, table, ttlMs);
  }

  /**
   * Names of the buckets under the provider's prefix: the tables keyed by
   * a string `key`. Describes each table of the prefix.
   */
  async list(): Promise<string[]> {
    this.#context.lifecycle.check('list key-value buckets');
    const prefix = this.#context.resourceName('');
    const names = (await listTables(this.#context)).filter((name) =>
      name.startsWith(prefix),
    );

    const buckets: string[] = [];
    for (const name of names) {
      const bucket = name.slice(prefix.length);
      const table = await describeTable(this.#context, this.#target(bucket));
      if (table !== undefined && isKvTable(table)) buckets.push(bucket);
    }
    return buckets;
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete a key-value bucket');
    await deleteTable(this.#context, this.#target(bucket));
  }

  #target(bucket: string): TableTarget {
    return {
      table: this.#context.resourceName(bucket),
      kind: 'kv-bucket',
      resource: bucket,
      details: { bucket },
    };
  }
}

/** Whether `table` is keyed by a string `key` alone. */
function isKvTable(table: TableDescription): boolean {
  const [hash, ...rest] = table.KeySchema ?? [];
  const type = table.AttributeDefinitions?.find(
    (definition) => definition.AttributeName === ATTRIBUTES.key,
  )?.AttributeType;
  return (
    rest.length === 0 &&
    hash?.AttributeName === ATTRIBUTES.key &&
    hash.KeyType === 'HASH' &&
    type === 'S'
  );
}

/** The TTL a bucket's tag holds, in ms, if it holds a valid one. */
function parseTtl(tag: string | undefined): number | undefined {
  if (tag === undefined || !/^[1-9][0-9]*$/.test(tag)) return undefined;
  const ttlMs = Number(tag);
  return Number.isSafeInteger(ttlMs) ? ttlMs : undefined;
}
