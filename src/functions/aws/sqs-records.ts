/**
 * Reading SQS records: the message in the body, the attempt from the
 * receive count, the FIFO message group. A record that is not a
 * Switchyard message becomes an item with the problem stated.
 */
import type { SQSRecord } from 'aws-lambda';
import { fromSqsBody } from '../../providers/aws/wire.ts';
import { type BatchItem, rawMessage } from './batch-item.ts';
import { describeReceived } from './errors.ts';

/** The record's own `eventSource`. */
export const SQS_SOURCE = 'aws:sqs';

/**
 * The item of SQS record `index` of a batch for `channel`. Never
 * throws: a record without a body, with a body that is not a Switchyard
 * envelope, or from another source is an item with a `problem`.
 */
export function readSqsRecord(
  input: unknown,
  index: number,
  channel: string,
): BatchItem {
  const record = (isObject(input) ? input : {}) as Partial<SQSRecord>;
  const attributes: Partial<SQSRecord['attributes']> = isObject(
    record.attributes,
  )
    ? record.attributes
    : {};
  const id = nonEmpty(record.messageId);
  const queueArn = nonEmpty(record.eventSourceARN) ?? '';
  const ordered = queueArn.endsWith('.fifo');
  const group = nonEmpty(attributes.MessageGroupId);
  const receiptHandle = nonEmpty(record.receiptHandle);
  const base = {
    id,
    attempt: receiveCount(attributes.ApproximateReceiveCount),
    // Records of one FIFO message group share a lane; other records each
    // have their own.
    lane: ordered && group !== undefined ? `group:${group}` : `record:${index}`,
    ordered,
    ...(receiptHandle !== undefined &&
      queueArn !== '' && { receipt: { queueArn, receiptHandle } }),
  };
  const raw = (problem: string): BatchItem => ({
    ...base,
    problem,
    wire: rawMessage({
      id: id ?? `record-${index}`,
      channel,
      body: typeof record.body === 'string' ? record.body : undefined,
      source: queueArn || SQS_SOURCE,
      sentAt: Number(attributes.SentTimestamp) || undefined,
    }),
  });

  if (!isObject(input)) {
    return raw(
      `record ${index} is not an SQS record: got ${describeReceived(input)}`,
    );
  }
  if (record.eventSource !== SQS_SOURCE) {
    return raw(
      `record ${index} comes from event source ${JSON.stringify(record.eventSource)}, not ${SQS_SOURCE}`,
    );
  }
  if (id === undefined) return raw(`record ${index} has no messageId`);
  if (typeof record.body !== 'string') {
    return raw(
      `record ${id} has no body: got ${describeReceived(record.body)}`,
    );
  }
  try {
    return {
      ...base,
      wire: fromSqsBody(unwrapNotification(record.body), channel),
    };
  } catch (error) {
    return raw(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The message of an SNS notification when a queue receives from a topic
 * without raw message delivery; otherwise the body as it is.
 */
export function unwrapNotification(body: string): string {
  if (!body.includes('"Notification"')) return body;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (
      parsed.Type === 'Notification' &&
      typeof parsed.Message === 'string' &&
      typeof parsed.TopicArn === 'string'
    ) {
      return parsed.Message;
    }
  } catch {
    // Not JSON: the envelope check reports it.
  }
  return body;
}

function receiveCount(value: unknown): number {
  const count = Number(value);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
