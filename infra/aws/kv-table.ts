/**
 * `KvTable`: the DynamoDB table of a key-value bucket.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  StreamViewType,
  Table,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
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
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A key-value bucket on DynamoDB, laid out as the aws provider keeps it:
 * one item per entry under partition key `key`, expired entries removed
 * by TTL on `expiresAt`, and a stream of new and old images that `watch`
 * reads. On-demand billing and point-in-time recovery.
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
  }
}
