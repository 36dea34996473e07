/**
 * Factories of the Lambda adapter tests: sample events read from
 * `events/aws`, a memory provider per test (optionally with a
 * dead-letter transport that records what it stores), and a Lambda
 * context.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { DeadLetter, Provider } from '../../src/core/provider.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';

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
