/**
 * The Lambda adapter against real SQS queues on moto: with the `sqs`
 * option, a retry's delay and `extendLease` change the visibility of the
 * record that was received, and with the aws provider a record over its
 * attempts, or one that is not a Switchyard message, goes to the group's
 * dead-letter queue.
 *
 * Moto runs no event source mapping, so each test plays its part: it
 * receives from the group's queue with a plain ReceiveMessage, hands the
 * records to the handler as an SQS event, and deletes those the batch
 * response does not list as failed.
 */
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { sqsRecord } from '../../events/aws/samples.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import { RetryLaterError } from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import { toLambda } from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { onChannel } from '../../src/functions/triggers.ts';
import type { FunctionContext } from '../../src/functions/types.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import {
  type GroupQueue,
  groupQueue,
  lambdaContext,
  motoForFile,
  receiveNow,
  receiveSome,
  settle,
} from './aws-fixtures.ts';

const TIMEOUT_MS = 90_000;

/**
 * How long the test's own receive hides a message. Far longer than the
 * delays asked for, so that a message back before it lapsed is one whose
 * visibility the adapter changed.
 */
const RECEIVE_HOLD_SECONDS = 60;

/** The delay a handler asks for, and how long a test waits for it. */
const DELAY_MS = 3_000;
const BACK_WITHIN_MS = 30_000;

const CHANNEL = 'orders';
const GROUP = 'billing';

const moto = motoForFile();

type Handle = (message: Message, context: FunctionContext) => unknown;

/** A queue of the group `billing` of `orders`, on a prefix of its own. */
const newQueue = () => groupQueue(moto, CHANNEL, GROUP);

/** {@link newQueue}, with `{ n: 1 }` published through a client. */
async function groupWithOneMessage(): Promise<GroupQueue> {
  const queue = await newQueue();
  const client = createSwitchyard({
    provider: await createAwsProvider({
      endpoint: moto.endpoint,
      prefix: queue.prefix,
    }),
  });
  await client.channel(CHANNEL).publish({ n: 1 }, { id: 'order-1' });
  await client.close();

  return queue;
}

/** What the queue at `url` hands out now, hidden for `holdSeconds`. */
const receive = (url: string, holdSeconds = RECEIVE_HOLD_SECONDS) =>
  receiveNow(moto.sqs, url, holdSeconds);

/** Waits until the queue hands out a message, and returns what it gave. */
const waitForSome = (queue: GroupQueue, holdSeconds = RECEIVE_HOLD_SECONDS) =>
  receiveSome(moto.sqs, queue.url, { holdSeconds, timeoutMs: BACK_WITHIN_MS });

/** The record an event source mapping makes of a received message. */
function toRecord(queue: GroupQueue, message: SqsMessage): SQSRecord {
  const attempt = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    ...sqsRecord(message.Body ?? '', {
      messageId: message.MessageId!,
      attempt,
      queueArn: queue.arn,
    }),
    receiptHandle: message.ReceiptHandle!,
  };
}

/** Runs `handle`, the function `billing` of `orders`, on `messages`. */
async function invoke(
  queue: GroupQueue,
  messages: readonly SqsMessage[],
  handle: Handle,
  extra: { maxAttempts?: number } = {},
): Promise<SQSBatchResponse> {
  const fn = defineFunction({
    name: GROUP,
    trigger: onChannel(CHANNEL, { group: GROUP }),
    ...extra,
    handler: handle,
  });
  const handler = toLambda(fn, { provider: queue.provider, sqs: moto.sqs });

  return (await handler(
    { Records: messages.map((m) => toRecord(queue, m)) },
    lambdaContext(),
  )) as SQSBatchResponse;
}

/** Messages the queue holds, visible or not. */
async function held(queue: GroupQueue): Promise<number> {
  const { Attributes } = await moto.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed)
  );
}

describe('toLambda with the sqs option, on moto', () => {
  it(
    'a retry later keeps the record invisible for its delay, then the queue hands it out again',
    async () => {
      const queue = await groupWithOneMessage();
      const first = await waitForSome(queue);

      const response = await invoke(queue, first, () => {
        throw new RetryLaterError(DELAY_MS);
      });
      const rightAfter = await receive(queue.url);
      const [again] = await waitForSome(queue);

      expect(first).toHaveLength(1);
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: first[0]!.MessageId },
      ]);
      expect(rightAfter).toEqual([]);
      // Back before the receive's own hold lapsed: the delay set it.
      expect(again?.MessageId).toBe(first[0]!.MessageId);
      expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    },
    TIMEOUT_MS,
  );

  it(
    'extendLease sets how long the record stays invisible from now',
    async () => {
      const queue = await groupWithOneMessage();
      const first = await waitForSome(queue);

      const response = await invoke(queue, first, async (_, context) => {
        await context.extendLease!(DELAY_MS);
      });
      const rightAfter = await receive(queue.url);
      const [again] = await waitForSome(queue);

      expect(response.batchItemFailures).toEqual([]);
      expect(rightAfter).toEqual([]);
      // Back before the receive's own hold lapsed: the lease set it.
      expect(again?.MessageId).toBe(first[0]!.MessageId);
      expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    },
    TIMEOUT_MS,
  );
});

describe('toLambda with the aws provider, on moto', () => {
  it(
    "a record over its max attempts goes to the group's dead-letter queue with the reason, and leaves the queue",
    async () => {
      const queue = await groupWithOneMessage();
      // Received once and let go at once, so the next receive is the second.
      await waitForSome(queue, 0);
      const second = await waitForSome(queue);
      const seen: string[] = [];

      const response = await invoke(
        queue,
        second,
        (message) => {
          seen.push(message.id);
        },
        { maxAttempts: 1 },
      );
      await settle(moto.sqs, queue.url, second, response);
      const letters = await queue.provider.channels!.deadLetters(CHANNEL);

      expect(second[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
      expect(response.batchItemFailures).toEqual([]);
      expect(seen).toEqual([]);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ group: GROUP, attempts: 2 });
      expect(letters[0]!.message.id).toBe('order-1');
      expect(letters[0]!.reason).toBe(
        'delivered 2 times, over the limit of 1 attempts, without being acknowledged',
      );
      expect(await held(queue)).toBe(0);
    },
    TIMEOUT_MS,
  );

  it(
    "a body that is not a Switchyard message goes to the group's dead-letter queue as it came",
    async () => {
      const queue = await newQueue();
      const body = '{"orderId":42}';
      await moto.sqs.send(
        new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }),
      );
      const received = await waitForSome(queue);

      const response = await invoke(queue, received, () => {});
      await settle(moto.sqs, queue.url, received, response);
      const letters = await queue.provider.channels!.deadLetters(CHANNEL);
      const { QueueUrl } = await moto.sqs.send(
        new GetQueueUrlCommand({
          QueueName: `${queue.prefix}${CHANNEL}--${GROUP}-dlq`,
        }),
      );
      const [stored] = await receive(QueueUrl!);

      expect(response.batchItemFailures).toEqual([]);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.reason).toContain('is not a Switchyard envelope');
      expect(new TextDecoder().decode(letters[0]!.message.body)).toBe(body);
      expect(stored?.Body).toBe(body);
      expect(await held(queue)).toBe(0);
    },
    TIMEOUT_MS,
  );
});
