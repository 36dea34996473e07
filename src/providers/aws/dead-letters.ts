/**
 * Dead letters of a channel, in SQS dead-letter queues: each worker group
 * has its own (`{prefix}{channel}--{group}-dlq`, the target of the group
 * queue's redrive policy), and broadcast consumers share one
 * (`{prefix}{channel}-dlq`).
 *
 * A consumer dead-letters a delivery by sending its body, unchanged, to
 * that queue with the message attributes `switchyard-reason`,
 * `switchyard-attempts`, `switchyard-group` and
 * `switchyard-dead-lettered-at`, then deleting it from its own queue. A
 * message that SQS moved there itself, after `maxReceiveCount` receives,
 * has none of them: its reason says so, its attempts are the count. A
 * dead letter handed over outside a consumer (a Lambda event source
 * mapping's record) is sent the same way, as the message's envelope.
 *
 * Reading a dead-letter queue receives every message in it and makes each
 * visible again at once, so two admins reading one queue at the same time
 * may each see part of it; a FIFO dead-letter queue gives at most ten
 * messages of one message group per read, since SQS holds back the rest
 * of a group while some of it is received.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { DecodeError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type { DeadLetter, DeadLetterInput } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { BatchedDeletes, SQS_BATCH_SIZE } from './deletes.ts';
import { awsError, isMissing } from './errors.ts';
import { DEFAULT_MESSAGE_GROUP, lastPart } from './names.ts';
import { messageGroupId } from './publisher.ts';
import type { Queues } from './queues.ts';
import { fromSqsBody, toSqsBody } from './wire.ts';

/** Message attributes of a dead letter. */
export const REASON_ATTRIBUTE = 'switchyard-reason';
export const ATTEMPTS_ATTRIBUTE = 'switchyard-attempts';
export const GROUP_ATTRIBUTE = 'switchyard-group';
export const DEAD_LETTERED_AT_ATTRIBUTE = 'switchyard-dead-lettered-at';

/** Longest reason kept, in characters; the rest is cut. */
const MAX_REASON = 4096;
/** How long a read holds the messages it received, in seconds. */
const READ_HOLD_SECONDS = 30;

const utf8 = new TextDecoder();

/** A dead-letter queue of a channel, with where its messages came from. */
export interface DeadLetterQueue {
  url: string;
  ordered: boolean;
  /**
   * The queue a dead letter of `group` is replayed to, or undefined when
   * it no longer exists.
   */
  source(group: string): Promise<string | undefined>;
  /** The group of a dead letter that names none (moved by SQS). */
  group?: string;
  /** The receive count after which SQS moves a message here. */
  maxReceiveCount?: number;
}

/** What a consumer dead-letters. */
export interface DeadLetterSpec {
  queueUrl: string;
  ordered: boolean;
  /** The body as received. */
  body: string;
  /** The message's id, or the SQS message id of a body that is none. */
  messageId: string;
  /** The FIFO message group it was received in. */
  messageGroupId?: string;
  reason: string;
  attempts: number;
  group: string;
}

/** Sends one dead letter; rejects when SQS did not store it. */
export async function sendDeadLetter(
  ctx: AwsContext,
  spec: DeadLetterSpec,
): Promise<void> {
  const reason =
    spec.reason.length > MAX_REASON
      ? `${spec.reason.slice(0, MAX_REASON)}…`
      : spec.reason;
  try {
    await ctx.sqs.send(
      new SendMessageCommand({
        QueueUrl: spec.queueUrl,
        MessageBody: spec.body,
        MessageAttributes: {
          [REASON_ATTRIBUTE]: text(reason === '' ? '(no reason)' : reason),
          [ATTEMPTS_ATTRIBUTE]: number(spec.attempts),
          [GROUP_ATTRIBUTE]: text(spec.group),
          [DEAD_LETTERED_AT_ATTRIBUTE]: number(Date.now()),
        },
        ...(spec.ordered && fifoEntry(spec.messageGroupId)),
      }),
    );
  } catch (error) {
    throw awsError(error, `dead-letter message '${spec.messageId}'`, {
      details: { group: spec.group, messageId: spec.messageId },
      notFound: { kind: 'dead-letter', resource: lastPart(spec.queueUrl) },
    });
  }
}

/**
 * Stores `letter`, handed over outside a consumer, in the dead-letter
 * queue at `queueUrl`: the message's envelope, or the bytes as received
 * when the letter carries them. On a FIFO queue it goes to the message
 * group of its ordering key, as when it was published; bytes that were
 * no message go to the default group.
 */
export async function storeDeadLetter(
  ctx: AwsContext,
  queue: { url: string; ordered: boolean },
  letter: DeadLetterInput,
): Promise<void> {
  const { message } = letter;
  await sendDeadLetter(ctx, {
    queueUrl: queue.url,
    ordered: queue.ordered,
    body:
      letter.body === undefined ? toSqsBody(message) : utf8.decode(letter.body),
    messageId: message.id,
    messageGroupId: messageGroupId(message.orderingKey),
    reason: letter.reason,
    attempts: letter.attempts,
    group: letter.group,
  });
}

/** One message of a dead-letter queue, as read. */
export interface ReadDeadLetter extends DeadLetter {
  queue: DeadLetterQueue;
  receiptHandle: string;
  body: string;
  messageGroupId?: string;
}

/** Every dead letter of `queues`, oldest first. */
export async function readDeadLetters(
  ctx: AwsContext,
  channel: string,
  queues: readonly DeadLetterQueue[],
): Promise<ReadDeadLetter[]> {
  const letters: ReadDeadLetter[] = [];
  for (const queue of queues) {
    for (const message of await receiveAll(ctx, queue.url)) {
      letters.push(toDeadLetter(channel, queue, message));
    }
  }

  return letters.sort(
    (a, b) =>
      a.deadLetteredAt - b.deadLetteredAt ||
      a.message.sequence - b.message.sequence,
  );
}

/** Makes read dead letters visible again at once. */
export async function releaseDeadLetters(
  ctx: AwsContext,
  letters: readonly ReadDeadLetter[],
): Promise<void> {
  for (const [url, batch] of batchesByQueue(letters)) {
    await ctx.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: batch.map((letter, index) => ({
            Id: String(index),
            ReceiptHandle: letter.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch((error: unknown) => {
        // They come back when the read's hold lapses.
        if (!isMissing(error)) throw awsError(error, 'release dead letters');
      });
  }
}

/**
 * Sends read dead letters back to the queue each came from, as new
 * messages with a fresh receive count, and deletes them from the
 * dead-letter queue. Those whose queue is gone stay. Returns how many
 * were replayed.
 */
export async function replay(
  ctx: AwsContext,
  letters: readonly ReadDeadLetter[],
): Promise<number> {
  let replayed = 0;
  const stay: ReadDeadLetter[] = [];
  for (const letter of letters) {
    const target = await letter.queue.source(letter.group);
    if (target === undefined) {
      stay.push(letter);
      continue;
    }
    await sendBack(ctx, target, letter);
    await new BatchedDeletes(ctx.sqs, letter.queue.url).delete(
      letter.receiptHandle,
      letter.message.id,
    );
    replayed += 1;
  }
  await releaseDeadLetters(ctx, stay);

  return replayed;
}

/** Empties dead-letter queues; returns how many messages they held. */
export async function purgeQueues(
  ctx: AwsContext,
  queues: Queues,
  urls: readonly string[],
): Promise<number> {
  let removed = 0;
  for (const url of urls) {
    const counts = await queues.counts(url);
    if (counts === undefined) continue;
    removed += counts.visible + counts.inFlight + counts.delayed;
    await purgeQueue(ctx, url);
  }

  return removed;
}

/**
 * Purges the queue at `url`. SQS allows one purge a minute per queue; a
 * second one within that minute is a TransportUnavailableError.
 */
export async function purgeQueue(ctx: AwsContext, url: string): Promise<void> {
  try {
    await ctx.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  } catch (error) {
    if (isMissing(error)) return;
    throw awsError(error, `purge queue ${url.slice(url.lastIndexOf('/') + 1)}`);
  }
}

/**
 * The message of a body that is not a Switchyard envelope, so that it
 * can be listed and replayed as it came: its text as the body, the SQS
 * message id as its id.
 */
export function foreignMessage(
  body: string,
  channel: string,
  messageId: string,
  sentAt: number,
): WireMessage {
  return {
    id: messageId,
    channel,
    body: new TextEncoder().encode(body),
    contentType: 'text/plain; charset=utf-8',
    attributes: {},
    publishedAt: sentAt,
    publisherId: 'unknown',
    sequence: 0,
  };
}

async function receiveAll(ctx: AwsContext, url: string): Promise<SqsMessage[]> {
  const messages: SqsMessage[] = [];
  for (;;) {
    let answer: { Messages?: SqsMessage[] };
    try {
      answer = await ctx.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: SQS_BATCH_SIZE,
          VisibilityTimeout: READ_HOLD_SECONDS,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp', 'MessageGroupId'],
        }),
      );
    } catch (error) {
      if (isMissing(error)) return messages;
      throw awsError(error, 'read dead letters');
    }
    const received = answer.Messages ?? [];
    messages.push(...received);
    if (received.length === 0) return messages;
  }
}

function toDeadLetter(
  channel: string,
  queue: DeadLetterQueue,
  message: SqsMessage,
): ReadDeadLetter {
  const body = message.Body ?? '';
  const attributes = message.MessageAttributes ?? {};
  const sentAt = Number(message.Attributes?.SentTimestamp ?? Date.now());
  const reason = attributes[REASON_ATTRIBUTE]?.StringValue;
  const attempts = Number(
    attributes[ATTEMPTS_ATTRIBUTE]?.StringValue ?? queue.maxReceiveCount ?? 0,
  );
  const messageGroupId = message.Attributes?.MessageGroupId;

  return {
    message: decodeOrKeep(body, channel, message.MessageId ?? '', sentAt),
    group: attributes[GROUP_ATTRIBUTE]?.StringValue ?? queue.group ?? '',
    reason:
      reason ??
      `received ${attempts} times without being settled: moved by the queue's redrive policy`,
    attempts,
    deadLetteredAt: Number(
      attributes[DEAD_LETTERED_AT_ATTRIBUTE]?.StringValue ?? sentAt,
    ),
    queue,
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    ...(messageGroupId !== undefined && { messageGroupId }),
  };
}

function decodeOrKeep(
  body: string,
  channel: string,
  messageId: string,
  sentAt: number,
): WireMessage {
  try {
    return fromSqsBody(body, channel);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return foreignMessage(body, channel, messageId, sentAt);
  }
}

async function sendBack(
  ctx: AwsContext,
  url: string,
  letter: ReadDeadLetter,
): Promise<void> {
  try {
    await ctx.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: letter.body,
        ...(letter.queue.ordered && fifoEntry(letter.messageGroupId)),
      }),
    );
  } catch (error) {
    throw awsError(error, `replay dead letter '${letter.message.id}'`, {
      details: { group: letter.group, messageId: letter.message.id },
    });
  }
}

function batchesByQueue(
  letters: readonly ReadDeadLetter[],
): [string, ReadDeadLetter[]][] {
  const batches: [string, ReadDeadLetter[]][] = [];
  const byQueue = new Map<string, ReadDeadLetter[]>();
  for (const letter of letters) {
    const list = byQueue.get(letter.queue.url) ?? [];
    list.push(letter);
    byQueue.set(letter.queue.url, list);
  }
  for (const [url, list] of byQueue) {
    for (let i = 0; i < list.length; i += SQS_BATCH_SIZE) {
      batches.push([url, list.slice(i, i + SQS_BATCH_SIZE)]);
    }
  }
  return batches;
}

/** FIFO fields of a message sent again: its group, a fresh dedup id. */
function fifoEntry(messageGroupId: string | undefined): {
  MessageGroupId: string;
  MessageDeduplicationId: string;
} {
  return {
    MessageGroupId: messageGroupId ?? DEFAULT_MESSAGE_GROUP,
    MessageDeduplicationId: randomUUID(),
  };
}

function text(value: string) {
  return { DataType: 'String', StringValue: value };
}

function number(value: number) {
  return { DataType: 'Number', StringValue: String(value) };
}
