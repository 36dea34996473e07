/**
 * Requests as Lambda receives them: SQS records of a subject's request
 * queue and SNS records of its gather topic, each read into the
 * received message the aws request wire reads its route and payload
 * from.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SNSEventRecord, SQSRecord } from 'aws-lambda';

/** One request of an event. */
export interface RequestRecord {
  /** The record's message id; undefined when it has none. */
  readonly id: string | undefined;
  /** The request, with its body and string attributes. */
  readonly message: Message;
}

/** The request of an SQS record. Never throws. */
export function sqsRequestRecord(input: unknown): RequestRecord {
  const record = (isObject(input) ? input : {}) as Partial<SQSRecord>;
  const received = isObject(record.messageAttributes)
    ? record.messageAttributes
    : {};
  const id = nonEmpty(record.messageId);
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(received)) {
    if (typeof value?.stringValue === 'string') {
      attributes[name] = {
        DataType: value.dataType ?? 'String',
        StringValue: value.stringValue,
      };
    }
  }

  return { id, message: message(id, record.body, attributes) };
}

/**
 * The request of an SNS record: a gather the topic handed to the
 * function. Never throws.
 */
export function snsRequestRecord(input: unknown): RequestRecord {
  const record = (isObject(input) ? input : {}) as Partial<SNSEventRecord>;
  const sns = (isObject(record.Sns) ? record.Sns : {}) as Partial<
    SNSEventRecord['Sns']
  >;
  const received = isObject(sns.MessageAttributes) ? sns.MessageAttributes : {};
  const id = nonEmpty(sns.MessageId);
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(received)) {
    if (typeof value?.Value === 'string') {
      attributes[name] = {
        DataType: value.Type ?? 'String',
        StringValue: value.Value,
      };
    }
  }

  return { id, message: message(id, sns.Message, attributes) };
}

function message(
  id: string | undefined,
  body: unknown,
  attributes: Record<string, MessageAttributeValue>,
): Message {
  return {
    ...(id !== undefined && { MessageId: id }),
    ...(typeof body === 'string' && { Body: body }),
    MessageAttributes: attributes,
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
