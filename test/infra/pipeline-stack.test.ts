import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import {
  PipelineStack,
  type PipelineStackProps,
} from '../../infra/aws/pipeline-stack.ts';
import { REFERENCE_MODULE } from '../../infra/aws/reference.ts';
import { SAMPLE_MODULE, samplePipeline } from './sample-pipeline.ts';
import {
  logicalId,
  policyStatementsOf,
  synthesize,
  synthesizeReference,
} from './synth.ts';

/**
 * The synth-time warnings on `stack` and its constructs, without their
 * acknowledgement id.
 */
function warningsOf(stack: PipelineStack): string[] {
  return stack.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === 'aws:cdk:warning')
    .map((m) => String(m.data).replace(/ \[ack: [^\]]+\]$/, ''));
}

function actionsOf(statements: Record<string, unknown>[]): string[] {
  return statements.flatMap((s) => [s.Action].flat() as string[]);
}

const TLS_ONLY = Match.objectLike({
  Statement: Match.arrayWith([
    Match.objectLike({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  ]),
});

describe('the stack of the reference pipeline', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesizeReference().template;
  });

  it('has a FIFO topic for the ordered channel, encrypted and TLS only', () => {
    const topic = logicalId(template, 'AWS::SNS::Topic', {
      TopicName: 'kv-events.fifo',
      FifoTopic: true,
      KmsMasterKeyId: Match.anyValue(),
    });

    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: TLS_ONLY,
    });
  });

  it("gives the indexer group a FIFO queue that moves a message to its dead-letter queue after the group's 5 attempts", () => {
    const dlq = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer-dlq.fifo',
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });

    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer.fifo',
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 30,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('refuses requests without TLS on every queue: the group queues, the request queue and the schedule dead-letter queue', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { PolicyDocument: TLS_ONLY },
    });

    expect(Object.keys(policies)).toHaveLength(4);
    template.resourceCountIs('AWS::SQS::Queue', 4);
  });

  it('subscribes the group queue to the topic with raw message delivery', () => {
    const topic = logicalId(template, 'AWS::SNS::Topic', { FifoTopic: true });
    const queue = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer.fifo',
    });

    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      TopicArn: { Ref: topic },
      Endpoint: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
  });

  it('alarms as soon as a dead letter is visible, of the group or of the schedule', () => {
    const dlqs = [
      'kv-events--indexer-dlq.fifo',
      'kv-router-snapshot-schedule-dlq',
    ];

    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    for (const QueueName of dlqs) {
      const dlq = logicalId(template, 'AWS::SQS::Queue', { QueueName });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('keeps the index in an on-demand table with PITR, TTL on expiresAt and a stream of new and old images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'router-index',
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('keeps idempotency records in the Powertools layout: key id, TTL on expiration', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'switchyard-idempotency',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('keeps snapshots in an encrypted, private, TLS-only bucket with access logs', () => {
    const bucket = logicalId(template, 'AWS::S3::Bucket', {
      BucketName: 'router-snapshots',
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({
        DestinationBucketName: Match.anyValue(),
      }),
    });

    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: TLS_ONLY,
    });
  });

  it('runs the indexer on Node.js 22 and ARM with the aws provider', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'kv-router-indexer',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_PROVIDER: 'aws',
          SWITCHYARD_AWS_PREFIX: '',
        }),
      },
    });
  });

  it('deploys the schedule and request functions too, warning only that the 5 s period becomes a minute', () => {
    const { stack } = synthesizeReference();

    template.resourceCountIs('AWS::Lambda::Function', 3);
    for (const name of ['snapshot', 'stats']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `kv-router-${name}`,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
      });
    }
    expect(warningsOf(stack)).toEqual([
      "function snapshot runs every 1 min on EventBridge, not every 5000 ms: a rule's rate is a whole number of minutes, one at least",
    ]);
  });

  it('runs the snapshot function every minute from a rule that retries twice, then dead-letters the event', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', {
      FunctionName: 'kv-router-snapshot',
    });
    const dlq = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-router-snapshot-schedule-dlq',
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });

    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'kv-router-snapshot',
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          Id: Match.anyValue(),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
          RetryPolicy: {
            MaximumRetryAttempts: 2,
            MaximumEventAgeInSeconds: 60,
          },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlq }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
          }),
        ]),
      }),
    });
  });

  it("grants the snapshot function the index's reads, the snapshot bucket and the indexer group's consumer state only", () => {
    const statements = policyStatementsOf(template, 'kv-router-snapshot');
    const actions = actionsOf(statements);
    const resourcesOf = (action: string) =>
      statements
        .filter((s) => actionsOf([s]).includes(action))
        .flatMap((s) => [s.Resource].flat());

    expect(actions).toContain('dynamodb:Query');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).toContain('s3:PutObject');
    expect(actions).toContain('s3:DeleteObject*');
    expect(actions).not.toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('sns:Publish');
    expect(resourcesOf('sqs:ListQueues')).toEqual(['*']);
    expect(resourcesOf('sns:GetTopicAttributes')).toEqual([
      { Ref: logicalId(template, 'AWS::SNS::Topic', { FifoTopic: true }) },
    ]);
    expect(resourcesOf('sqs:GetQueueAttributes')).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':sqs:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':kv-events--*',
          ],
        ],
      },
    ]);
  });

  it('has the request queue of router.stats with the attributes the provider gives it, and feeds the stats function from it', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: Match.stringLikeRegexp('^sy-req-router_stats-[0-9a-f]{8}$'),
      MessageRetentionPeriod: 60,
      VisibilityTimeout: 5,
      SqsManagedSseEnabled: true,
    });
    const fn = logicalId(template, 'AWS::Lambda::Function', {
      FunctionName: 'kv-router-stats',
      Timeout: 5,
    });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: fn },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('subscribes the stats function to the encrypted, TLS-only gather topic of router.stats', () => {
    const topic = logicalId(template, 'AWS::SNS::Topic', {
      TopicName: Match.stringLikeRegexp('^sy-gather-router_stats-[0-9a-f]{8}$'),
      KmsMasterKeyId: Match.anyValue(),
    });
    const fn = logicalId(template, 'AWS::Lambda::Function', {
      FunctionName: 'kv-router-stats',
    });

    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topic },
      Endpoint: { 'Fn::GetAtt': [fn, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: topic },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: TLS_ONLY,
    });
  });

  it("grants the stats function reads of the index and sending to the requesters' reply queues only", () => {
    const statements = policyStatementsOf(template, 'kv-router-stats');
    const actions = actionsOf(statements);
    const send = statements.find((s) => s.Action === 'sqs:SendMessage')!
      .Resource as { 'Fn::Join': [string, unknown[]] };

    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('s3:GetObject*');
    expect(send['Fn::Join'][1].at(-1)).toBe(':sy-reply-*');
    expect(send['Fn::Join'][1]).toContainEqual({ Ref: 'AWS::AccountId' });
  });

  it('feeds the indexer from its queue and lets it report the failed messages of a batch', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer.fifo',
    });
    const indexer = logicalId(template, 'AWS::Lambda::Function', {
      FunctionName: 'kv-router-indexer',
    });

    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: indexer },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('grants the indexer its queue, the index, the idempotency table and reads of snapshots only', () => {
    const statements = policyStatementsOf(template, 'kv-router-indexer');
    const actions = actionsOf(statements);

    expect(actions).toContain('sqs:ReceiveMessage');
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions).toContain('s3:GetObject*');
    expect(actions).toContain('dynamodb:ListTagsOfResource');
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('sns:Publish');
    const tables = statements.find((s) =>
      actionsOf([s]).includes('dynamodb:PutItem'),
    )!.Resource as { 'Fn::GetAtt': [string] }[];
    expect(tables.map((r) => r['Fn::GetAtt'][0]).sort()).toEqual([
      logicalId(template, 'AWS::DynamoDB::Table', {
        TableName: 'switchyard-idempotency',
      }),
      logicalId(template, 'AWS::DynamoDB::Table', {
        TableName: 'router-index',
      }),
    ]);
  });

  it('starts every name with the prefix', () => {
    const { template: prefixed } = synthesizeReference({ prefix: 'dev-' });

    prefixed.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'dev-kv-events.fifo',
    });
    prefixed.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'dev-kv-events--indexer.fifo',
    });
    prefixed.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'dev-kv-events--indexer-dlq.fifo',
    });
    prefixed.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'dev-router-index',
    });
    prefixed.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'dev-switchyard-idempotency',
    });
    prefixed.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'dev-router-snapshots',
    });
    prefixed.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'dev-kv-router-indexer',
      Environment: {
        Variables: Match.objectLike({ SWITCHYARD_AWS_PREFIX: 'dev-' }),
      },
    });
  });
});

describe('the stack of another pipeline', () => {
  const build = (functions: PipelineStackProps['functions'] = {}) =>
    synthesize(
      (app) =>
        new PipelineStack(app, 'Shop', {
          pipeline: samplePipeline,
          pipelineModule: SAMPLE_MODULE,
          functions,
        }),
    );

  it('gives each group of an unordered channel its own standard queue and dead-letter queue', () => {
    const { template } = build();

    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'orders',
      FifoTopic: Match.absent(),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'orders--billing',
      FifoQueue: Match.absent(),
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'orders--shipping',
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('rounds a period up to whole minutes, and says so', () => {
    const { stack, template } = synthesize(
      (app) =>
        new PipelineStack(app, 'Fast', {
          pipeline: createRouterPipeline({ snapshotEveryMs: 90_000 }),
          pipelineModule: REFERENCE_MODULE,
        }),
    );

    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 minutes)',
    });
    expect(warningsOf(stack)).toEqual([
      "function snapshot runs every 2 min on EventBridge, not every 90000 ms: a rule's rate is a whole number of minutes, one at least",
    ]);
  });

  it('runs a schedule of whole minutes at its own rate', () => {
    const { template } = build();

    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'shop-report',
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: Match.anyValue() })],
    });
  });

  it("keeps a message invisible for the longer of the group's lease and its function's timeout", () => {
    const { template } = build();

    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'orders--billing',
      VisibilityTimeout: 60,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'shop-billing',
      Timeout: 60,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'orders--shipping',
      VisibilityTimeout: 30,
    });
  });

  it('has no queue for a broadcast consumer and leaves its function out', () => {
    const { template, stack } = build();

    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'prices.fifo',
    });
    expect(
      Object.keys(
        template.findResources('AWS::SQS::Queue', {
          Properties: { QueueName: Match.stringLikeRegexp('^prices') },
        }),
      ),
    ).toEqual([]);
    expect(warningsOf(stack)).toContain(
      'function ticker is not deployed: a broadcast needs a queue per live instance, which Lambda does not have',
    );
  });

  it('tags the table of a bucket with a TTL with it, where the provider reads it', () => {
    const { template } = build();

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'carts',
      Tags: [{ Key: 'switchyard:ttl-ms', Value: '3600000' }],
    });
  });

  it('has no idempotency table when no function is exactly-once', () => {
    const { template } = build();

    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'carts',
    });
  });

  it('expires objects after their declared age, rounded up to days', () => {
    const { template } = build();

    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'receipts',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ ExpirationInDays: 3, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('applies the batch size and batching window of the deployment', () => {
    const { template } = build({
      billing: { batchSize: 25, maxBatchingWindow: Duration.seconds(5) },
    });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 5,
    });
  });

  it('lets a function publish only on the channels its access names', () => {
    const { template } = build({
      billing: { access: { publish: ['orders'] } },
    });
    const billing = policyStatementsOf(template, 'shop-billing');
    const topic = logicalId(template, 'AWS::SNS::Topic', {
      TopicName: 'orders',
    });

    expect(billing).toContainEqual(
      expect.objectContaining({
        Action: 'sns:Publish',
        Resource: { Ref: topic },
      }),
    );
    expect(
      actionsOf(policyStatementsOf(template, 'shop-shipping')),
    ).not.toContain('sns:Publish');
  });

  it('refuses an access that names a bucket the pipeline does not declare', () => {
    expect(() =>
      build({ billing: { access: { writeObjects: ['invoices'] } } }),
    ).toThrow(
      "functions.billing.access.writeObjects names 'invoices', which the pipeline does not declare (declared: receipts)",
    );
  });

  it('refuses settings of a function the pipeline does not have', () => {
    expect(() => build({ invoicing: { memorySize: 512 } })).toThrow(
      "functions.invoicing names no function of pipeline 'shop'",
    );
  });
});
