/**
 * What kind of event a Lambda handler received, read from its records'
 * own event source, and the batch response of SQS.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { describeReceived, LambdaEventError } from './errors.ts';
import type { RecordOutcome } from './record-delivery.ts';

/** The source of an event's records. */
export type EventSource =
  | 'aws:sqs'
  | 'aws:sns'
  | 'aws:s3'
  /** The message S3 sends once when a notification is set up. */
  | 's3:TestEvent'
  /** An event with no records. */
  | 'none'
  | (string & {});

/** An event read: its source and its records. */
export interface ReadEvent {
  source: EventSource;
  records: readonly unknown[];
}

/**
 * Reads the records of `event`. Throws a {@link LambdaEventError} that
 * says what was received when the event has no `Records` array.
 */
export function readEvent(event: unknown, fn: string): ReadEvent {
  if (typeof event !== 'object' || event === null) {
    throw new LambdaEventError(
      `function '${fn}' received an event it cannot read: expected an SQS, SNS or S3 event with Records, got ${describeReceived(event)}`,
      { field: 'event', value: describeReceived(event) },
    );
  }
  const { Records, Event } = event as { Records?: unknown; Event?: unknown };
  if (Event === 's3:TestEvent') return { source: 's3:TestEvent', records: [] };
  if (!Array.isArray(Records)) {
    throw new LambdaEventError(
      `function '${fn}' received an event without a Records array: expected an SQS, SNS or S3 event, got ${describeReceived(event)}`,
      { field: 'event.Records', value: describeReceived(event) },
    );
  }
  if (Records.length === 0) return { source: 'none', records: [] };
  const first = Records[0] as { eventSource?: unknown; EventSource?: unknown };

  return {
    source: String(first?.eventSource ?? first?.EventSource ?? 'unknown'),
    records: Records,
  };
}

/** Whether the queue must deliver the record again. */
export function isFailed(outcome: RecordOutcome): boolean {
  return outcome.status === 'failed' || outcome.status === 'pending';
}

/**
 * The SQS partial batch response of `outcomes`: every failed record by
 * its message id. A failed record without a message id cannot be named,
 * so an empty identifier is sent for it, which makes Lambda treat the
 * whole batch as failed: every record comes back rather than that one
 * being lost.
 */
export function batchResponse(
  outcomes: readonly RecordOutcome[],
): SQSBatchResponse {
  const ids = new Set<string>();
  for (const outcome of outcomes) {
    if (isFailed(outcome)) ids.add(outcome.id ?? '');
  }
  return { batchItemFailures: [...ids].map((id) => ({ itemIdentifier: id })) };
}
