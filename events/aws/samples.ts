/**
 * Sample Lambda events for the reference pipeline, and the factories
 * they are made with: SQS records (standard and FIFO) and SNS records
 * whose bodies are Switchyard envelopes of the sample `RouterEvent`s on
 * `kv-events`, S3 records of the snapshot bucket, an EventBridge
 * scheduled event, SQS records of `router.stats` requests (see
 * `request-samples.ts`), and bad input.
 *
 *     node events/aws/generate.ts && npx biome format --write events/aws
 */
import type {
  S3Event,
  S3EventRecord,
  ScheduledEvent,
  SNSEvent,
  SNSEventRecord,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import type { WireMessage } from '../../src/core/message.ts';
import { toSqsBody } from '../../src/providers/aws/wire.ts';
import { sampleFiles } from '../samples.ts';
import { requestMessage, requestRecord } from './request-samples.ts';
import { SAMPLE_ACCOUNT, SAMPLE_REGION } from './sample-account.ts';

export { SAMPLE_ACCOUNT, SAMPLE_REGION };

/** Queue and topic names of the samples. */
export const SAMPLE_QUEUE = `arn:aws:sqs:${SAMPLE_REGION}:${SAMPLE_ACCOUNT}:kv-events-indexer`;
export const SAMPLE_FIFO_QUEUE = `${SAMPLE_QUEUE}.fifo`;
export const SAMPLE_TOPIC = `arn:aws:sns:${SAMPLE_REGION}:${SAMPLE_ACCOUNT}:kv-events`;
/** When the sample messages were published. */
const PUBLISHED_AT = Date.UTC(2026, 0, 1);

const utf8 = new TextEncoder();

/** The wire message of a router event, as a worker publishes it. */
export function routerMessage(
  event: { workerId: string; eventId: number },
  sequence = event.eventId,
): WireMessage {
  return {
    id: `${event.workerId}-${event.eventId}`,
    channel: 'kv-events',
    body: utf8.encode(JSON.stringify(event)),
    contentType: 'application/json',
    attributes: {},
    publishedAt: PUBLISHED_AT + sequence,
    publisherId: event.workerId,
    sequence,
    orderingKey: event.workerId,
  };
}

/** Options of {@link sqsRecord}. */
export interface SqsRecordOptions {
  messageId?: string;
  /** `ApproximateReceiveCount`. Default 1. */
  attempt?: number;
  /** A FIFO queue's message group. */
  groupId?: string;
  queueArn?: string;
}

/** An SQS record whose body is `body` (an envelope or anything else). */
export function sqsRecord(
  body: string,
  options: SqsRecordOptions = {},
): SQSRecord {
  const messageId = options.messageId ?? 'message-1';
  const fifo = options.groupId !== undefined;
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.attempt ?? 1),
      SentTimestamp: String(PUBLISHED_AT),
      SenderId: SAMPLE_ACCOUNT,
      ApproximateFirstReceiveTimestamp: String(PUBLISHED_AT + 10),
      ...(fifo && {
        MessageGroupId: options.groupId,
        MessageDeduplicationId: messageId,
        SequenceNumber: '1',
      }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN:
      options.queueArn ?? (fifo ? SAMPLE_FIFO_QUEUE : SAMPLE_QUEUE),
    awsRegion: SAMPLE_REGION,
  };
}

/** The SQS record of a wire message, its message id the message's. */
export function sqsMessageRecord(
  wire: WireMessage,
  options: SqsRecordOptions = {},
): SQSRecord {
  return sqsRecord(toSqsBody(wire), { messageId: wire.id, ...options });
}

/** An SNS record whose message is the envelope of `wire`. */
export function snsRecord(wire: WireMessage): SNSEventRecord {
  return {
    EventVersion: '1.0',
    EventSubscriptionArn: `${SAMPLE_TOPIC}:subscription-1`,
    EventSource: 'aws:sns',
    Sns: {
      SignatureVersion: '1',
      Timestamp: new Date(wire.publishedAt).toISOString(),
      Signature: '',
      SigningCertUrl: '',
      MessageId: `sns-${wire.id}`,
      Message: toSqsBody(wire),
      MessageAttributes: {},
      Type: 'Notification',
      UnsubscribeUrl: '',
      TopicArn: SAMPLE_TOPIC,
      Subject: '',
    },
  };
}

/** An S3 record of `key` in `bucket`. */
export function s3Record(
  eventName: string,
  bucket: string,
  key: string,
  size = 0,
): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: SAMPLE_REGION,
    eventTime: new Date(PUBLISHED_AT).toISOString(),
    eventName,
    userIdentity: { principalId: 'sample' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': 'sample',
      'x-amz-id-2': 'sample',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'switchyard',
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: 'sample' },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key,
        size,
        eTag: 'd41d8cd98f00b204e9800998ecf8427e',
        sequencer: '0001',
      },
    },
  };
}

/** The event an EventBridge schedule rule sends at `time`. */
export function scheduledEvent(
  time: Date = new Date(PUBLISHED_AT),
  rule = 'kv-router-snapshot',
): ScheduledEvent<Record<string, never>> {
  return {
    version: '0',
    id: `schedule-${time.getTime()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: SAMPLE_ACCOUNT,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: SAMPLE_REGION,
    resources: [
      `arn:aws:events:${SAMPLE_REGION}:${SAMPLE_ACCOUNT}:rule/${rule}`,
    ],
    detail: {},
  };
}

/** The sample events by file name. */
export function sampleEvents(): Record<string, unknown> {
  const files = sampleFiles();
  const one = files['sample-1.json'] as { workerId: string; eventId: number }[];
  const two = files['sample-2.json'] as { workerId: string; eventId: number }[];
  const sqs: SQSEvent = {
    Records: one.slice(0, 3).map((e) => sqsMessageRecord(routerMessage(e))),
  };
  const fifo: SQSEvent = {
    Records: [one[0]!, two[0]!, one[1]!, two[1]!, one[2]!].map((e) =>
      sqsMessageRecord(routerMessage(e), { groupId: e.workerId }),
    ),
  };
  const sns: SNSEvent = { Records: [snsRecord(routerMessage(one[0]!))] };
  const put: S3Event = {
    Records: [
      s3Record(
        'ObjectCreated:Put',
        'router-snapshots',
        'snapshots/0001767225600000.json',
        1024,
      ),
    ],
  };
  const removed: S3Event = {
    Records: [
      s3Record(
        'ObjectRemoved:Delete',
        'router-snapshots',
        'snapshots/0001767225600000.json',
      ),
    ],
  };
  const bad: SQSEvent = {
    Records: [
      sqsRecord('{"orderId":42}', { messageId: 'raw-body' }),
      { ...sqsRecord('', { messageId: 'no-body' }), body: undefined as never },
      {
        ...sqsRecord('x', { messageId: 'other-source' }),
        eventSource: 'aws:kinesis',
      },
      sqsMessageRecord(routerMessage(one[3]!)),
    ],
  };

  return {
    'sqs-standard.json': sqs,
    'sqs-fifo.json': fifo,
    'sns.json': sns,
    's3-put.json': put,
    's3-delete.json': removed,
    'bad-sqs-records.json': bad,
    'bad-sqs-no-message-id.json': {
      Records: [
        sqsMessageRecord(routerMessage(one[4]!)),
        { ...sqsRecord('x'), messageId: undefined as never },
      ],
    },
    'bad-event.json': { hello: 'not a Lambda event' },
    'schedule.json': scheduledEvent(),
    'bad-schedule.json': {
      ...scheduledEvent(),
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
    },
    'sqs-requests.json': {
      Records: [
        requestRecord(requestMessage({}, {}, 'request-1')),
        requestRecord(requestMessage({ verbose: true }, {}, 'request-2')),
      ],
    } satisfies SQSEvent,
  };
}
