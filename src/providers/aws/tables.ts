/**
 * DynamoDB tables of the aws provider: created on demand with on-demand
 * billing, a string partition key and a TTL attribute, waited for until
 * they are ACTIVE, described, listed and deleted. Key-value buckets and
 * idempotency tables both build on these.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  type TableDescription,
  type Tag,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import type { ResourceKind } from '../../core/errors.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, isMissing, notFound } from './errors.ts';

/** Longest wait for a table to become ACTIVE or to be gone, in seconds. */
const WAIT_SECONDS = 300;

/** How a table is laid out. */
export interface TableSpec {
  /** Name of the string partition key. */
  key: string;
  /** Name of the attribute DynamoDB's TTL removes items by (seconds). */
  ttlAttribute: string;
  /** Keep a stream of new and old images of each change. */
  stream?: boolean;
  /** Tags set when the table is created. */
  tags?: Record<string, string>;
}

/** What an error of a table operation concerns. */
export interface TableTarget {
  /** The table's name, prefix included. */
  table: string;
  kind: ResourceKind;
  /** The Switchyard name of the bucket or table. */
  resource: string;
  /** Details every error carries, e.g. `{ bucket }`. */
  details: Record<string, string>;
}

/**
 * The description of table `target.table`, or undefined when there is no
 * such table. A table being deleted counts as absent unless `deleting`.
 */
export async function describeTable(
  context: AwsContext,
  target: TableTarget,
  options: { deleting?: boolean } = {},
): Promise<TableDescription | undefined> {
  try {
    const { Table } = await context.dynamodb.send(
      new DescribeTableCommand({ TableName: target.table }),
    );
    const deleting = Table?.TableStatus === 'DELETING';
    return deleting && options.deleting !== true ? undefined : Table;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw awsError(error, `describe table '${target.table}'`, {
      details: target.details,
    });
  }
}

/**
 * Opens table `target.table`: with `create`, creates it per `spec` when
 * absent (on-demand billing, TTL on `spec.ttlAttribute`) and waits until
 * it is ACTIVE; without, NotFoundError of `target.kind` when absent.
 * Racing creators both succeed. Returns the table's description.
 */
export async function openTable(
  context: AwsContext,
  target: TableTarget,
  spec: TableSpec,
  create: boolean,
): Promise<TableDescription> {
  let found = await describeTable(context, target, { deleting: true });
  if (found?.TableStatus === 'ACTIVE') return found;
  if (found?.TableStatus === 'DELETING') {
    await waitGone(context, target);
    found = undefined;
  }
  if (found === undefined && !create) {
    throw notFound(target.kind, target.resource, target.details);
  }
  if (found === undefined) await createTable(context, target, spec);

  return waitActive(context, target);
}

/** The tags of the table described by `table`, as a record. */
export async function tableTags(
  context: AwsContext,
  target: TableTarget,
  table: TableDescription,
): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let next: string | undefined;
  try {
    do {
      const page = await context.dynamodb.send(
        new ListTagsOfResourceCommand({
          ResourceArn: table.TableArn,
          NextToken: next,
        }),
      );
      for (const { Key, Value } of page.Tags ?? []) {
        if (Key !== undefined) tags[Key] = Value ?? '';
      }
      next = page.NextToken;
    } while (next !== undefined);
  } catch (error) {
    throw awsError(error, `read the tags of table '${target.table}'`, {
      details: target.details,
      notFound: { kind: target.kind, resource: target.resource },
    });
  }
  return tags;
}

/** Names of every table of the account and region, in order. */
export async function listTables(context: AwsContext): Promise<string[]> {
  const names: string[] = [];
  let start: string | undefined;
  try {
    do {
      const page = await context.dynamodb.send(
        new ListTablesCommand({ ExclusiveStartTableName: start }),
      );
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start !== undefined);
  } catch (error) {
    throw awsError(error, 'list tables');
  }
  return names.sort();
}

/**
 * Deletes table `target.table` and waits until it is gone, so that it can
 * be created again at once. An absent table is already deleted.
 */
export async function deleteTable(
  context: AwsContext,
  target: TableTarget,
): Promise<void> {
  try {
    await context.dynamodb.send(
      new DeleteTableCommand({ TableName: target.table }),
    );
  } catch (error) {
    if (isMissing(error)) return;
    throw awsError(error, `delete table '${target.table}'`, {
      details: target.details,
    });
  }
  await waitGone(context, target);
}

async function createTable(
  context: AwsContext,
  target: TableTarget,
  spec: TableSpec,
): Promise<void> {
  const tags: Tag[] = Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({
    Key,
    Value,
  }));
  try {
    await context.dynamodb.send(
      new CreateTableCommand({
        TableName: target.table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: spec.key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: spec.key, KeyType: 'HASH' }],
        ...(spec.stream === true && {
          StreamSpecification: {
            StreamEnabled: true,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        }),
        ...(tags.length > 0 && { Tags: tags }),
      }),
    );
  } catch (error) {
    // Another client created it first: wait for theirs.
    if (awsCode(error) === 'ResourceInUseException') return;
    throw awsError(error, `create table '${target.table}'`, {
      details: target.details,
    });
  }

  await waitActive(context, target);
  try {
    await context.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: target.table,
        TimeToLiveSpecification: {
          AttributeName: spec.ttlAttribute,
          Enabled: true,
        },
      }),
    );
  } catch (error) {
    throw awsError(error, `enable TTL on table '${target.table}'`, {
      details: target.details,
    });
  }
}

async function waitGone(
  context: AwsContext,
  target: TableTarget,
): Promise<void> {
  try {
    await waitUntilTableNotExists(
      { client: context.dynamodb, maxWaitTime: WAIT_SECONDS, minDelay: 1 },
      { TableName: target.table },
    );
  } catch (error) {
    throw awsError(error, `wait for table '${target.table}' to be deleted`, {
      details: target.details,
      timeoutMs: WAIT_SECONDS * 1000,
    });
  }
}

async function waitActive(
  context: AwsContext,
  target: TableTarget,
): Promise<TableDescription> {
  try {
    await waitUntilTableExists(
      { client: context.dynamodb, maxWaitTime: WAIT_SECONDS, minDelay: 1 },
      { TableName: target.table },
    );
  } catch (error) {
    throw awsError(error, `wait for table '${target.table}' to be ACTIVE`, {
      details: target.details,
      notFound: { kind: target.kind, resource: target.resource },
      timeoutMs: WAIT_SECONDS * 1000,
    });
  }
  const table = await describeTable(context, target);
  if (table === undefined) {
    throw notFound(target.kind, target.resource, target.details);
  }
  return table;
}
