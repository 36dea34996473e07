/**
 * `KvTable`: the DynamoDB table of a key-value bucket.
 */
import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  StreamViewType,
  Table,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TTL_TAG } from '../../src/providers/aws/kv.ts';
import { tableName } from './names.ts';

/** The partition key of an entry's item. */
export const KV_KEY = 'key';

/** The attribute DynamoDB's TTL removes expired entries by (seconds). */
export const KV_TTL_ATTRIBUTE = 'expiresAt';

/** Props of {@link KvTable}. */
export interface KvTableProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The bucket's name. */
  readonly bucket: string;

  /**
   * The bucket's TTL, in ms, kept in the table's tag `switchyard:ttl-ms`
   * where the aws provider reads it when it opens the bucket.
   *
   * @default - entries do not expire
   */
  readonly ttlMs?: number;

  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A key-value bucket on DynamoDB, laid out as the aws provider keeps it:
 * one item per entry under partition key `key`, expired entries removed
 * by TTL on `expiresAt`, a stream of new and old images that `watch`
 * reads, and the bucket's TTL in a tag. On-demand billing and
 * point-in-time recovery.
 */
export class KvTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: KvTableProps) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      tableName: tableName(props.prefix, props.bucket),
      partitionKey: { name: KV_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: KV_TTL_ATTRIBUTE,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (props.ttlMs !== undefined) {
      Tags.of(this.table).add(TTL_TAG, String(props.ttlMs));
    }
  }
}
