import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PipelineStack,
  type PipelineStackProps,
} from '../../infra/aws/pipeline-stack.ts';
import { SAMPLE_MODULE, samplePipeline } from './sample-pipeline.ts';
import { synthesize, synthesizeReference } from './synth.ts';

/** The logical id of the one resource of `type` matching `props`. */
function logicalId(
  template: Template,
  type: string,
  props: Record<string, unknown>,
): string {
  const found = Object.keys(
    template.findResources(type, { Properties: Match.objectLike(props) }),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The statements of the policy of the role of Lambda function `name`. */
function policyOf(template: Template, name: string): Record<string, unknown>[] {
  const fn = logicalId(template, 'AWS::Lambda::Function', {
    FunctionName: name,
  });
  const role = (
    template.findResources('AWS::Lambda::Function')[fn]!.Properties as {
      Role: { 'Fn::GetAtt': [string, string] };
    }
  ).Role['Fn::GetAtt'][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: role }] },
    }),
  );

  return policies.flatMap(
    (p) =>
      (p.Properties as { PolicyDocument: { Statement: [] } }).PolicyDocument
        .Statement,
  );
}

/** The synth-time warnings on `stack`, without their acknowledgement id. */
function warningsOf(stack: PipelineStack): string[] {
  return stack.node.metadata
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

  it('refuses requests without TLS on both queues', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { PolicyDocument: TLS_ONLY },
    });

    expect(Object.keys(policies)).toHaveLength(2);
  });

  it('subscribes the group queue to the topic with raw message delivery', () => {
    const topic = logicalId(template, 'AWS::SNS::Topic', {});
    const queue = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer.fifo',
    });

    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      TopicArn: { Ref: topic },
      Endpoint: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
  });

  it('alarms as soon as a dead letter is visible', () => {
    const dlq = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer-dlq.fifo',
    });

    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
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

  it('leaves out the schedule and request functions, which the Lambda adapter does not run, and says so', () => {
    const { stack } = synthesizeReference();

    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(warningsOf(stack)).toEqual([
      'function snapshot is not deployed: the stack declares no EventBridge schedule rules yet',
      'function stats is not deployed: the stack declares no request queues or gather topics yet',
    ]);
  });

  it('feeds the indexer from its queue and lets it report the failed messages of a batch', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue', {
      QueueName: 'kv-events--indexer.fifo',
    });
    const indexer = logicalId(template, 'AWS::Lambda::Function', {
      FunctionName: 'kv-router-indexer',
    });

    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: indexer },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('grants the indexer its queue, the index, the idempotency table and reads of snapshots only', () => {
    const statements = policyOf(template, 'kv-router-indexer');
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
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
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
    const billing = policyOf(template, 'shop-billing');
    const topic = logicalId(template, 'AWS::SNS::Topic', {
      TopicName: 'orders',
    });

    expect(billing).toContainEqual(
      expect.objectContaining({
        Action: 'sns:Publish',
        Resource: { Ref: topic },
      }),
    );
    expect(actionsOf(policyOf(template, 'shop-shipping'))).not.toContain(
      'sns:Publish',
    );
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
