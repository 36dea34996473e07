/** Reading SNS records: the message is the notification's `Message`. */
import type { SNSEventRecord } from 'aws-lambda';
import { fromSqsBody } from '../../providers/aws/wire.ts';
import { type BatchItem, rawMessage } from './batch-item.ts';
import { describeReceived } from './errors.ts';

/** The record's own `EventSource`. */
export const SNS_SOURCE = 'aws:sns';

/**
 * The item of SNS record `index` for `channel`. SNS invokes Lambda
 * asynchronously and gives no delivery count, so the attempt is 1.
 * Never throws: a record that is not a Switchyard message is an item
 * with a `problem`.
 */
export function readSnsRecord(
  input: unknown,
  index: number,
  channel: string,
): BatchItem {
  const record = (isObject(input) ? input : {}) as Partial<SNSEventRecord>;
  const sns = (isObject(record.Sns) ? record.Sns : {}) as Partial<
    SNSEventRecord['Sns']
  >;
  const id =
    typeof sns.MessageId === 'string' && sns.MessageId !== ''
      ? sns.MessageId
      : undefined;
  const base = { id, attempt: 1, lane: `record:${index}`, ordered: false };
  const raw = (problem: string): BatchItem => ({
    ...base,
    problem,
    wire: rawMessage({
      id: id ?? `record-${index}`,
      channel,
      body: typeof sns.Message === 'string' ? sns.Message : undefined,
      source: sns.TopicArn ?? SNS_SOURCE,
      sentAt: Date.parse(sns.Timestamp ?? '') || undefined,
    }),
  });

  if (record.EventSource !== SNS_SOURCE) {
    return raw(
      `record ${index} comes from event source ${JSON.stringify(record.EventSource)}, not ${SNS_SOURCE}`,
    );
  }
  if (id === undefined) return raw(`record ${index} has no Sns.MessageId`);
  if (typeof sns.Message !== 'string') {
    return raw(
      `record ${id} has no Sns.Message: got ${describeReceived(sns.Message)}`,
    );
  }
  try {
    return { ...base, wire: fromSqsBody(sns.Message, channel) };
  } catch (error) {
    return raw(error instanceof Error ? error.message : String(error));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
