/**
 * Factories of the Lambda adapter tests: sample events read from
 * `events/aws`, a memory provider per test (optionally with a
 * dead-letter transport that records what it stores), a Lambda
 * context, and, for the tests on moto, a group's queue with the
 * receive and delete an event source mapping does around an invocation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import type { DeadLetter, Provider } from '../../src/core/provider.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';

const folder = join(import.meta.dirname, '..', '..', 'events', 'aws');

/** A sample event of `events/aws`. */
export async function sampleEvent<T = unknown>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(folder, name), 'utf8')) as T;
}

/** A dead letter as the recording transport keeps it. */
export type StoredLetter = Omit<DeadLetter, 'deadLetteredAt'> & {
  channel: string;
};

/** A memory provider on a fresh namespace. */
export function memoryProvider(): Promise<Provider> {
  return createMemoryProvider({ namespace: randomUUID() });
}

/**
 * A memory provider whose channel transport also stores dead letters
 * handed to it outside a consumer, in `letters`.
 */
export async function providerWithDeadLetters(): Promise<{
  provider: Provider;
  letters: StoredLetter[];
}> {
  const memory = await memoryProvider();
  const letters: StoredLetter[] = [];
  const provider: Provider = {
    name: memory.name,
    capabilities: memory.capabilities,
    ...(memory.kv !== undefined && { kv: memory.kv }),
    ...(memory.objects !== undefined && { objects: memory.objects }),
    ...(memory.idempotency !== undefined && {
      idempotency: memory.idempotency,
    }),
    channels: {
      ...memory.channels!,
      async deadLetter(channel, letter) {
        letters.push({ channel, ...letter });
      },
    },
    close: () => memory.close(),
  };
  return { provider, letters };
}

/** A Lambda context with `remainingMs` left. */
export function lambdaContext(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'switchyard-test',
    functionVersion: '$LATEST',
    invokedFunctionArn:
      'arn:aws:lambda:us-east-1:000000000000:function:switchyard-test',
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/switchyard-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A moto server as the queue fixtures reach it. */
export interface MotoSqs {
  /** The server's `http://127.0.0.1:{port}`. */
  endpoint: string;
  /** An SQS client of that endpoint. */
  sqs: SQSClient;
}

/** The queue of one group, on a prefix of its own. */
export interface GroupQueue {
  /** The aws provider of the prefix: the function's, and the test's view. */
  provider: Provider;
  prefix: string;
  url: string;
  arn: string;
}

/**
 * One moto server for the tests of a file, with an SQS client on it,
 * started before them and stopped after them. Its fields are set once the
 * server is up.
 */
export function motoForFile(): MotoSqs {
  const moto = {} as MotoSqs;
  let server: MotoServer | undefined;
  beforeAll(async () => {
    server = await startMotoServer();
    moto.endpoint = server.endpoint;
    moto.sqs = new SQSClient({ endpoint: server.endpoint });
  }, 30_000);
  afterAll(() => server?.stop());
  return moto;
}

/**
 * Ensures `channel` with the one group `group` through an aws provider
 * on a fresh prefix, so that the queue has the names the provider gives
 * it, and looks up that queue's URL and ARN. The provider is closed
 * after the tests of the file.
 */
export async function groupQueue(
  moto: MotoSqs,
  channel: string,
  group: string,
): Promise<GroupQueue> {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  const provider = await createAwsProvider({ endpoint: moto.endpoint, prefix });
  afterAll(() => provider.close());
  await provider.channels!.ensure({
    name: channel,
    ordered: false,
    groups: [group],
  });

  const { QueueUrl } = await moto.sqs.send(
    new GetQueueUrlCommand({ QueueName: `${prefix}${channel}--${group}` }),
  );
  const { Attributes } = await moto.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );

  return { provider, prefix, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/**
 * What the queue at `url` hands out now, with every system and message
 * attribute, hidden for `holdSeconds` (default 60).
 */
export async function receiveNow(
  sqs: SQSClient,
  url: string,
  holdSeconds = 60,
): Promise<SqsMessage[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: holdSeconds,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/**
 * Waits until the queue at `url` hands out a message, and returns what
 * it gave, as {@link receiveNow} does. Rejects after `timeoutMs`
 * (default 30 s) without one.
 */
export function receiveSome(
  sqs: SQSClient,
  url: string,
  { holdSeconds = 60, timeoutMs = 30_000 } = {},
): Promise<SqsMessage[]> {
  return eventually(
    async () => {
      const messages = await receiveNow(sqs, url, holdSeconds);
      return messages.length > 0 ? messages : false;
    },
    { timeoutMs, intervalMs: 250, message: `a message of ${url}` },
  );
}

/**
 * Deletes the messages `response` does not list as failed, as an event
 * source mapping does after an invocation.
 */
export async function settle(
  sqs: SQSClient,
  url: string,
  messages: readonly SqsMessage[],
  response: SQSBatchResponse,
): Promise<void> {
  const failed = new Set(
    response.batchItemFailures.map((f) => f.itemIdentifier),
  );
  const done = messages.filter((m) => !failed.has(m.MessageId!));
  if (done.length === 0) return;

  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: url,
      Entries: done.map((m, i) => ({
        Id: String(i),
        ReceiptHandle: m.ReceiptHandle!,
      })),
    }),
  );
}
