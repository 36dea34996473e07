/**
 * `PipelineFunction`: a pipeline function as a Lambda function, bundled
 * locally by esbuild, with the event source of its trigger and the
 * grants of what it uses.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { SwitchyardFunction } from '../../src/functions/types.ts';
import { lambdaBundling } from './bundling.ts';
import {
  type ClaimCheckGrant,
  claimCheckEnvironment,
  claimCheckStatements,
} from './claim-check-access.ts';
import { lambdaName } from './names.ts';

/** Lambda's limit on a function's run time. */
const MAX_TIMEOUT_MS = 900_000;

/** The run-time limit of a function that declares none. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** What a function may use besides its trigger. */
export interface FunctionGrants {
  /** Key-value tables it reads. */
  readonly readTables?: readonly ITable[];

  /** Key-value tables it reads and writes. */
  readonly writeTables?: readonly ITable[];

  /** Key-value tables whose stream of changes it reads. */
  readonly watchTables?: readonly ITable[];

  /** Idempotency tables it keeps records in. */
  readonly recordTables?: readonly ITable[];

  /** Buckets it reads. */
  readonly readBuckets?: readonly IBucket[];

  /** Buckets it reads, writes and deletes in. */
  readonly writeBuckets?: readonly IBucket[];

  /** Topics it publishes to. */
  readonly publishTo?: readonly ITopic[];

  /** Channels whose consumers and counters it reads. */
  readonly readChannels?: readonly ChannelQueues[];

  /**
   * The ARN, with wildcards, of the reply queues it sends replies to.
   *
   * @default - it sends no replies
   */
  readonly replyQueues?: string;

  /**
   * The claim check's objects it reads or writes, and the setting of
   * its client's claim check.
   *
   * @default - no claim check
   */
  readonly claimCheck?: ClaimCheckGrant;
}

/** A channel's topic and the ARN pattern of its consumer queues. */
export interface ChannelQueues {
  readonly topic: ITopic;

  /** The ARN, with a wildcard, of every consumer queue of the channel. */
  readonly queueArns: string;
}

/** Props of {@link PipelineFunction}. */
export interface PipelineFunctionProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The pipeline's name, part of the function's name. */
  readonly pipeline: string;

  /** The function, as the pipeline defines it. */
  readonly fn: SwitchyardFunction;

  /** The entry module whose `handler` export Lambda runs. */
  readonly entry: string;

  /** The folder of the lock file and `node_modules` esbuild resolves in. */
  readonly projectRoot: string;

  /** The package lock of `projectRoot`. */
  readonly depsLockFilePath: string;

  /**
   * The queue of the function's worker group, for a channel trigger, or
   * the subject's request queue, for a request trigger.
   *
   * @default - no queue event source
   */
  readonly queue?: IQueue;

  /**
   * The subject's gather topic, for a request trigger: the function is
   * subscribed to it.
   *
   * @default - no subscription
   */
  readonly gatherTopic?: ITopic;

  /**
   * The function's run-time limit.
   *
   * @default - the function's `timeoutMs`, else 30 s, at most 15 min
   */
  readonly timeout?: Duration;

  /**
   * Messages handed to one run.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long Lambda gathers messages before a run, on a queue that is
   * not FIFO (Lambda allows no window on FIFO queues).
   *
   * @default - no window
   */
  readonly maxBatchingWindow?: Duration;

  /** What the function may use besides its trigger. */
  readonly grants?: FunctionGrants;

  /**
   * Memory of the function, in MiB.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * What happens to the function's log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function on Node.js 22 and ARM that runs one pipeline
 * function through the Lambda adapter, with the provider set to `aws`
 * and the deployment's prefix in its environment
 * (`SWITCHYARD_PROVIDER`, `SWITCHYARD_AWS_PREFIX`), and with a claim
 * check grant, the claim check's bucket and prefix
 * (`SWITCHYARD_CLAIM_CHECK_BUCKET`, `SWITCHYARD_CLAIM_CHECK_PREFIX`).
 *
 * On a channel trigger it consumes its group's queue and reports the
 * messages of a batch that failed, so that only those are received
 * again. Its timeout is the function's `timeoutMs` (default 30 s). It
 * gets only the grants it is given, besides consuming its queue.
 */
export class PipelineFunction extends Construct {
  readonly function: NodejsFunction;

  /** What the function was granted besides its trigger. */
  readonly grants: FunctionGrants;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const { fn, prefix } = props;
    const name = lambdaName(prefix, props.pipeline, fn.name);
    const timeoutMs = Math.min(
      fn.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      MAX_TIMEOUT_MS,
    );
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const claimCheck = props.grants?.claimCheck;

    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${name}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.function = new NodejsFunction(this, 'Function', {
      functionName: name,
      ...(fn.description !== undefined && { description: fn.description }),
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: props.depsLockFilePath,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(Math.ceil(timeoutMs / 1000)),
      logGroup,
      environment: {
        SWITCHYARD_PROVIDER: 'aws',
        SWITCHYARD_AWS_PREFIX: prefix,
        ...(claimCheck !== undefined && claimCheckEnvironment(claimCheck)),
      },
      bundling: lambdaBundling(),
    });

    if (props.queue !== undefined) this.#consume(props.queue, props);
    props.gatherTopic?.addSubscription(new LambdaSubscription(this.function));
    this.grants = props.grants ?? {};
    this.#grant(this.grants);
  }

  #consume(queue: IQueue, props: PipelineFunctionProps): void {
    const window = queue.fifo ? undefined : props.maxBatchingWindow;
    this.function.addEventSource(
      new SqsEventSource(queue, {
        reportBatchItemFailures: true,
        batchSize: props.batchSize ?? 10,
        ...(window !== undefined && { maxBatchingWindow: window }),
      }),
    );
  }

  #grant(grants: FunctionGrants): void {
    const fn = this.function;
    const { readTables = [], writeTables = [], watchTables = [] } = grants;
    for (const table of readTables) table.grantReadData(fn);
    for (const table of writeTables) table.grantReadWriteData(fn);
    for (const table of watchTables) table.grantStreamRead(fn);
    // The provider reads a bucket's TTL from its table's tags.
    for (const table of new Set([
      ...readTables,
      ...writeTables,
      ...watchTables,
    ])) {
      table.grant(fn, 'dynamodb:ListTagsOfResource');
    }
    for (const table of grants.recordTables ?? []) {
      table.grantReadWriteData(fn);
    }
    for (const bucket of grants.readBuckets ?? []) bucket.grantRead(fn);
    for (const bucket of grants.writeBuckets ?? []) {
      bucket.grantReadWrite(fn);
    }
    for (const topic of grants.publishTo ?? []) topic.grantPublish(fn);
    for (const channel of grants.readChannels ?? []) this.#inspect(channel);
    if (grants.replyQueues !== undefined) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [grants.replyQueues],
        }),
      );
    }
    if (grants.claimCheck !== undefined) {
      for (const statement of claimCheckStatements(grants.claimCheck)) {
        fn.addToRolePolicy(statement);
      }
    }
  }

  /**
   * What the provider's consumer listing reads: it finds the topic and
   * the queues by listing, which IAM allows only on every resource.
   */
  #inspect(channel: ChannelQueues): void {
    const fn = this.function;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['sns:ListTopics', 'sqs:ListQueues'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['sns:GetTopicAttributes'],
        resources: [channel.topic.topicArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['sqs:GetQueueAttributes', 'sqs:ListQueueTags'],
        resources: [channel.queueArns],
      }),
    );
  }
}
