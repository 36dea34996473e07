/**
 * `IdempotencyTable`: the DynamoDB table of exactly-once records.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DEFAULT_IDEMPOTENCY_TABLE } from '../../src/delivery/policy.ts';
import { tableName } from './names.ts';

/** The partition key of a record: `{group}#{message id}`. */
export const IDEMPOTENCY_KEY = 'id';

/** The attribute DynamoDB's TTL removes records by (seconds). */
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/** Props of {@link IdempotencyTable}. */
export interface IdempotencyTableProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /**
   * The table's Switchyard name.
   *
   * @default 'switchyard-idempotency', the one consumers use by default
   */
  readonly name?: string;

  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The idempotency records of exactly-once consumers, in the layout AWS
 * Lambda Powertools uses: partition key `id`, records removed by TTL on
 * `expiration`. On-demand billing and point-in-time recovery.
 */
export class IdempotencyTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      tableName: tableName(
        props.prefix,
        props.name ?? DEFAULT_IDEMPOTENCY_TABLE,
      ),
      partitionKey: { name: IDEMPOTENCY_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
