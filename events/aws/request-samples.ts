/**
 * Requests as a request function's SQS trigger receives them, built
 * with the aws provider's request wire format: the payload in the
 * client's request envelope, the reply queue, correlation id and
 * deadline in message attributes.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type {
  SNSEventRecord,
  SNSMessageAttributes,
  SQSMessageAttributes,
  SQSRecord,
} from 'aws-lambda';
import { STATS_SUBJECT } from '../../functions/router-event.ts';
import { jsonCodec } from '../../src/core/codecs.ts';
import { encodeRequest } from '../../src/core/request-envelope.ts';
import { requestQueueNameOf } from '../../src/providers/aws/request-names.ts';
import {
  attributes,
  CORRELATION_ID,
  DEADLINE,
  encodeBody,
  REPLY_TO,
} from '../../src/providers/aws/request-wire.ts';
import { SAMPLE_ACCOUNT, SAMPLE_REGION } from './sample-account.ts';

/** The request queue of the samples: `router.stats`'s, without prefix. */
export const SAMPLE_REQUEST_QUEUE = `arn:aws:sqs:${SAMPLE_REGION}:${SAMPLE_ACCOUNT}:${requestQueueNameOf('', STATS_SUBJECT)}`;

/** The reply queue of the samples' requester. */
export const SAMPLE_REPLY_QUEUE = `https://sqs.${SAMPLE_REGION}.amazonaws.com/${SAMPLE_ACCOUNT}/sy-reply-0123456789abcdef`;

/**
 * The deadline of the sample requests, far off, so that a replayed
 * sample is still answered.
 */
const SAMPLE_DEADLINE = Date.UTC(2100, 0, 1);

/** Where a request's reply goes. */
export interface RequestRoute {
  replyTo?: string;
  correlationId?: string;
  /** Ms since the epoch. */
  deadline?: number;
}

/** The SQS message a requester sends for `data`, encoded as JSON. */
export function requestMessage(
  data: unknown,
  route: RequestRoute = {},
  messageId = 'request-1',
): Message {
  return {
    MessageId: messageId,
    Body: encodeBody(encodeRequest(jsonCodec, data), 'request'),
    MessageAttributes: attributes({
      [CORRELATION_ID]: route.correlationId ?? `correlation-${messageId}`,
      [REPLY_TO]: route.replyTo ?? SAMPLE_REPLY_QUEUE,
      [DEADLINE]: String(route.deadline ?? SAMPLE_DEADLINE),
    }),
  };
}

/**
 * The SQS record of `message` as Lambda hands it over: a message
 * received from a request queue, or one {@link requestMessage} built.
 */
export function requestRecord(
  message: Message,
  queueArn = SAMPLE_REQUEST_QUEUE,
): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const messageId = message.MessageId ?? 'request-1';

  return {
    messageId,
    receiptHandle: message.ReceiptHandle ?? `receipt-${messageId}`,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1767225600000',
      SenderId: SAMPLE_ACCOUNT,
      ApproximateFirstReceiveTimestamp: '1767225600010',
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: SAMPLE_REGION,
  };
}

/**
 * The SNS record Lambda hands over for a gather, from the notification
 * a queue subscribed to the gather topic without raw delivery received:
 * both carry the same fields.
 */
export function gatherRecord(notification: string): SNSEventRecord {
  const sent = JSON.parse(notification) as Partial<SNSEventRecord['Sns']>;
  const messageAttributes: SNSMessageAttributes = {};
  for (const [name, value] of Object.entries(sent.MessageAttributes ?? {})) {
    messageAttributes[name] = { Type: value.Type, Value: value.Value };
  }
  const topicArn = sent.TopicArn ?? '';

  return {
    EventVersion: '1.0',
    EventSubscriptionArn: `${topicArn}:subscription-1`,
    EventSource: 'aws:sns',
    Sns: {
      SignatureVersion: sent.SignatureVersion ?? '1',
      Timestamp: sent.Timestamp ?? '',
      Signature: sent.Signature ?? '',
      SigningCertUrl: sent.SigningCertUrl ?? '',
      MessageId: sent.MessageId ?? '',
      Message: sent.Message ?? '',
      MessageAttributes: messageAttributes,
      Type: 'Notification',
      UnsubscribeUrl: sent.UnsubscribeUrl ?? '',
      TopicArn: topicArn,
      Subject: sent.Subject ?? '',
    },
  };
}
