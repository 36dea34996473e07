import { existsSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetBucketEncryptionCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';
import { type DeployedPipeline, deployToMoto } from './deploy.ts';

const PREFIX = 'it-';

let moto: MotoServer;
let deployed: DeployedPipeline;
let sqs: SQSClient;
let sns: SNSClient;
let dynamodb: DynamoDBClient;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  deployed = await deployToMoto(moto.endpoint, { prefix: PREFIX });
  const config = { endpoint: moto.endpoint };
  sqs = new SQSClient(config);
  sns = new SNSClient(config);
  dynamodb = new DynamoDBClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
}, 120_000);

afterAll(async () => {
  for (const client of [sqs, sns, dynamodb, s3]) client?.destroy();
  await moto?.stop();
});

/*
 * moto's CloudFormation creates these resources but drops some of their
 * properties: table TTL and point-in-time recovery, the bucket's
 * lifecycle rules, public access block and access logging. Those are
 * asserted on the template (pipeline-stack.test.ts) and not here.
 */
describe('the reference stack created through CloudFormation on moto', () => {
  it('takes out the functions and what moto cannot create that refers to them: mappings, the rule, permissions, the Lambda subscription, the policy naming the rule', () => {
    expect(deployed.removed.sort()).toEqual([
      expect.stringMatching(/^FunctionindexerFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^FunctionindexerFunctionSqsEventSource/),
      expect.stringMatching(/^FunctionsnapshotFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^FunctionstatsFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^FunctionstatsFunctionAllowInvoke/),
      expect.stringMatching(/^FunctionstatsFunctionGatherTopic[0-9A-F]{8}$/),
      expect.stringMatching(/^FunctionstatsFunctionSqsEventSource/),
      expect.stringMatching(/^SchedulesnapshotDeadLetterQueuePolicy/),
      expect.stringMatching(/^SchedulesnapshotRule[0-9A-F]{8}$/),
      expect.stringMatching(/^SchedulesnapshotRuleAllowEventRule/),
    ]);
  });

  it('has the request queue of router.stats with the attributes the provider creates it with', async () => {
    const { queue } = deployed.subjects['router.stats']!;

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ['MessageRetentionPeriod', 'VisibilityTimeout'],
      }),
    );

    expect(queue.name).toMatch(/^it-sy-req-router_stats-[0-9a-f]{8}$/);
    expect(Attributes).toEqual({
      MessageRetentionPeriod: '60',
      VisibilityTimeout: '5',
    });
  });

  it('has the gather topic of router.stats, with no subscriber until a server subscribes', async () => {
    const { gatherTopic } = deployed.subjects['router.stats']!;

    const { Subscriptions } = await sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: gatherTopic }),
    );

    expect(gatherTopic).toMatch(/:it-sy-gather-router_stats-[0-9a-f]{8}$/);
    expect(Subscriptions).toEqual([]);
  });

  it('has the dead-letter queue of the schedule rule', async () => {
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({
        QueueName: 'it-kv-router-snapshot-schedule-dlq',
      }),
    );

    expect(QueueUrl).toContain('it-kv-router-snapshot-schedule-dlq');
  });

  it('leaves no synthesized assembly behind', () => {
    expect(existsSync(deployed.assembly)).toBe(false);
  });

  it("has the channel's FIFO topic, encrypted with the SNS key", async () => {
    const arn = deployed.topics['kv-events']!;

    const { Attributes } = await sns.send(
      new GetTopicAttributesCommand({ TopicArn: arn }),
    );

    expect(arn).toMatch(/:it-kv-events\.fifo$/);
    expect(Attributes?.FifoTopic).toBe('true');
    expect(Attributes?.KmsMasterKeyId).toMatch(/alias\/aws\/sns$/);
  });

  it("has the indexer group's FIFO queue, redriven to its dead-letter queue after 5 receives", async () => {
    const { queue, deadLetters } = deployed.groups['kv-events--indexer']!;

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ['All'],
      }),
    );

    expect(queue.name).toBe('it-kv-events--indexer.fifo');
    expect(Attributes?.FifoQueue).toBe('true');
    expect(Attributes?.VisibilityTimeout).toBe('30');
    expect(Attributes?.SqsManagedSseEnabled).toBe('true');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: deadLetters.arn,
      maxReceiveCount: 5,
    });
  });

  it('has the dead-letter queue, FIFO, keeping messages 14 days', async () => {
    const { deadLetters } = deployed.groups['kv-events--indexer']!;

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetters.url,
        AttributeNames: ['All'],
      }),
    );

    expect(deadLetters.name).toBe('it-kv-events--indexer-dlq.fifo');
    expect(Attributes?.FifoQueue).toBe('true');
    expect(Attributes?.MessageRetentionPeriod).toBe('1209600');
  });

  it('subscribes the group queue to the topic with raw delivery, which moto leaves to the SNS API', async () => {
    const { queue } = deployed.groups['kv-events--indexer']!;

    const { Subscriptions = [] } = await sns.send(
      new ListSubscriptionsByTopicCommand({
        TopicArn: deployed.topics['kv-events'],
      }),
    );
    const { Attributes } = await sns.send(
      new GetSubscriptionAttributesCommand({
        SubscriptionArn: Subscriptions[0]?.SubscriptionArn,
      }),
    );

    expect(Subscriptions.map((s) => [s.Protocol, s.Endpoint])).toEqual([
      ['sqs', queue.arn],
    ]);
    expect(Attributes?.RawMessageDelivery).toBe('true');
  });

  it('delivers a message published on the topic to the group queue as it was published', async () => {
    const { queue } = deployed.groups['kv-events--indexer']!;
    const body = JSON.stringify({ specversion: '1.0', id: 'w1-1' });

    await sns.send(
      new PublishCommand({
        TopicArn: deployed.topics['kv-events'],
        Message: body,
        MessageGroupId: 'w1',
        MessageDeduplicationId: 'w1-1',
      }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        WaitTimeSeconds: 5,
      }),
    );

    expect(Messages.map((m) => m.Body)).toEqual([body]);
  });

  it('has the index table: key `key`, on demand, with a stream of new and old images', async () => {
    const TableName = deployed.kvTables['router-index']!;

    const { Table } = await dynamodb.send(
      new DescribeTableCommand({ TableName }),
    );

    expect(TableName).toBe('it-router-index');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'key', KeyType: 'HASH' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
  });

  it('has the idempotency table: key `id`, on demand', async () => {
    const TableName = deployed.idempotencyTable!;

    const { Table } = await dynamodb.send(
      new DescribeTableCommand({ TableName }),
    );

    expect(TableName).toBe('it-switchyard-idempotency');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'id', KeyType: 'HASH' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has the snapshot bucket, encrypted with S3-managed keys', async () => {
    const Bucket = deployed.buckets['router-snapshots']!;

    await s3.send(new HeadBucketCommand({ Bucket }));
    const encryption = await s3.send(
      new GetBucketEncryptionCommand({ Bucket }),
    );

    expect(Bucket).toBe('it-router-snapshots');
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]
        ?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    ).toBe('AES256');
  });
});
