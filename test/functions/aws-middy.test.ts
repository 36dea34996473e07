import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RouterEvent } from '../../functions/router-event.ts';
import type { Message } from '../../src/core/message.ts';
import type { Provider } from '../../src/core/provider.ts';
import {
  LambdaEventError,
  switchyardBatch,
} from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { onChannel } from '../../src/functions/triggers.ts';
import {
  lambdaContext,
  memoryProvider,
  providerWithDeadLetters,
  sampleEvent,
} from './aws-fixtures.ts';

/** A function on `kv-events` that fails on the message ids in `failing`. */
function indexing(seen: string[], failing: readonly string[] = []) {
  return defineFunction({
    name: 'indexing',
    trigger: onChannel('kv-events', { group: 'indexing' }),
    handler: (message: Message<RouterEvent>) => {
      seen.push(message.id);
      if (failing.includes(message.id)) throw new Error('index busy');
    },
  });
}

let provider: Provider;
beforeEach(async () => {
  provider = await memoryProvider();
});

describe('the switchyardBatch middleware', () => {
  it('processes the batch before the handler and sets the partial batch response', async () => {
    const seen: string[] = [];
    let handlerSaw: string[] = [];
    const handler = middy<SQSEvent, SQSBatchResponse>()
      .use(switchyardBatch(indexing(seen, ['sample-1-3']), { provider }))
      .handler(async () => {
        handlerSaw = [...seen];
        return undefined as unknown as SQSBatchResponse;
      });
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'sample-1-3' }],
    });
    expect(handlerSaw).toEqual(['sample-1-1', 'sample-1-2', 'sample-1-3']);
  });

  it('adds the failures the wrapped handler returns to its own', async () => {
    const handler = middy<SQSEvent, SQSBatchResponse>()
      .use(switchyardBatch(indexing([], ['sample-1-1']), { provider }))
      .handler(async () => ({
        batchItemFailures: [{ itemIdentifier: 'sample-1-2' }],
      }));
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const response = await handler(event, lambdaContext());

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'sample-1-1' },
      { itemIdentifier: 'sample-1-2' },
    ]);
  });

  it('holds back a FIFO group after a failure', async () => {
    const seen: string[] = [];
    const handler = middy<SQSEvent, SQSBatchResponse>()
      .use(switchyardBatch(indexing(seen, ['sample-2-1']), { provider }))
      .handler(async () => undefined as unknown as SQSBatchResponse);
    const event = await sampleEvent<SQSEvent>('sqs-fifo.json');

    const response = await handler(event, lambdaContext());

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'sample-2-1' },
      { itemIdentifier: 'sample-2-2' },
    ]);
    expect(seen).not.toContain('sample-2-2');
  });

  it('returns every record but the dead-lettered ones when the wrapped handler throws', async () => {
    const { provider, letters } = await providerWithDeadLetters();
    const handler = middy<SQSEvent, SQSBatchResponse>()
      .use(switchyardBatch(indexing([]), { provider }))
      .handler(async () => {
        throw new Error('downstream unavailable');
      });
    const event = await sampleEvent<SQSEvent>('bad-sqs-records.json');

    const response = await handler(event, lambdaContext());

    expect(letters).toHaveLength(3);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'sample-1-4' },
    ]);
  });

  it('lets an event it cannot read fail the invocation with a LambdaEventError', async () => {
    const handler = middy<SQSEvent, SQSBatchResponse>()
      .use(switchyardBatch(indexing([]), { provider }))
      .handler(async () => ({ batchItemFailures: [] }));
    const event = await sampleEvent<SQSEvent>('sns.json');

    const thrown = await handler(event, lambdaContext()).catch(
      (error: unknown) => error,
    );

    expect(thrown).toBeInstanceOf(LambdaEventError);
    expect((thrown as Error).message).toBe(
      `switchyardBatch of function 'indexing' takes SQS events, got records of event source "aws:sns"`,
    );
  });
});
