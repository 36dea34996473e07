/**
 * A record of a Lambda batch as the processing sees it, whatever the
 * event source: the message, its attempt, the lane it runs in, and why
 * it cannot be handled when it cannot.
 */
import type { WireMessage } from '../../core/message.ts';

/** One record of a batch. */
export interface BatchItem {
  /** The record's message id; undefined when the record has none. */
  readonly id: string | undefined;
  /** 1 on the first delivery. */
  readonly attempt: number;
  /** Records of one lane run one at a time, in order. */
  readonly lane: string;
  /** Whether a failure holds back the rest of the lane (FIFO). */
  readonly ordered: boolean;
  /**
   * The message; for a record that is not a Switchyard message, its
   * body as raw bytes, so that a dead letter keeps it.
   */
  readonly wire: WireMessage;
  /** Why the record cannot be handled; it is dead-lettered with this. */
  readonly problem?: string;
  /** Where an SQS visibility change for the record goes. */
  readonly receipt?: { queueArn: string; receiptHandle: string };
}

const utf8 = new TextEncoder();

/**
 * A message that carries a record's body as it came, for a record that
 * is not a Switchyard message.
 */
export function rawMessage(input: {
  id: string;
  channel: string;
  body: string | undefined;
  source: string;
  sentAt?: number;
}): WireMessage {
  return {
    id: input.id,
    channel: input.channel,
    body: utf8.encode(input.body ?? ''),
    contentType: 'application/octet-stream',
    attributes: {},
    publishedAt: input.sentAt ?? Date.now(),
    publisherId: input.source,
    sequence: 0,
  };
}
