import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  routerMessage,
  sqsMessageRecord,
  sqsRecord,
} from '../../events/aws/samples.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import type { RouterEvent } from '../../functions/router-event.ts';
import { PermanentError } from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import type { Provider } from '../../src/core/provider.ts';
import {
  LambdaBatchError,
  LambdaEventError,
  toLambda,
} from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { onChannel, onObjects } from '../../src/functions/triggers.ts';
import type { ObjectEvent } from '../../src/functions/types.ts';
import {
  lambdaContext,
  memoryProvider,
  providerWithDeadLetters,
  sampleEvent,
} from './aws-fixtures.ts';
import { recordingLogger } from './fixtures.ts';

type Seen = { id: string; attempt: number; group?: string };

/** A function on `kv-events` that fails on the message ids in `failing`. */
function recorder(
  seen: Seen[],
  failing: Record<string, Error> = {},
  extra: { maxAttempts?: number } = {},
) {
  return defineFunction({
    name: 'recorder',
    trigger: onChannel('kv-events', { group: 'recorder' }),
    backoff: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
    handler: (message: Message<RouterEvent>, context) => {
      seen.push({
        id: message.id,
        attempt: context.attempt,
        group: message.orderingKey,
      });
      const error = failing[message.id];
      if (error !== undefined) throw error;
    },
  });
}

let provider: Provider;
beforeEach(async () => {
  provider = await memoryProvider();
});

describe('toLambda on an SQS event', () => {
  it('runs the handler on every record and reports no failure', async () => {
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen), { provider });
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.id)).toEqual([
      'sample-1-1',
      'sample-1-2',
      'sample-1-3',
    ]);
  });

  it('returns only the records that failed, so SQS redelivers just those', async () => {
    const seen: Seen[] = [];
    const fn = recorder(seen, { 'sample-1-2': new Error('index busy') });
    const handler = toLambda(fn, { provider });
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'sample-1-2' }],
    });
    expect(seen).toHaveLength(3);
  });

  it('gives the handler the receive count as its attempt', async () => {
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen), { provider });
    const wire = routerMessage({ workerId: 'sample-1', eventId: 1 });

    await handler({ Records: [sqsMessageRecord(wire, { attempt: 3 })] });

    expect(seen).toEqual([{ id: 'sample-1-1', attempt: 3, group: 'sample-1' }]);
  });

  it('applies the reference indexer once: a redelivered batch is skipped as duplicates', async () => {
    const pipeline = createRouterPipeline({ count: 10 });
    const indexer = pipeline.functions.find((f) => f.name === 'indexer')!;
    const handler = toLambda(indexer, { provider, pipeline });
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const first = await handler(event, lambdaContext());
    const second = await handler(event, lambdaContext());

    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    const store = await provider.idempotency!.open('switchyard-idempotency');
    const record = await store.get('indexer#sample-1-1');
    expect(record).toMatchObject({
      status: 'COMPLETED',
      data: '{"changed":true}',
    });
  });
});

describe('toLambda on a FIFO queue', () => {
  it('holds back the rest of a message group once one of its records fails', async () => {
    const seen: Seen[] = [];
    const fn = recorder(seen, { 'sample-1-2': new Error('out of order') });
    const handler = toLambda(fn, { provider });
    const event = await sampleEvent<SQSEvent>('sqs-fifo.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'sample-1-2' },
        { itemIdentifier: 'sample-1-3' },
      ],
    });
    expect(seen.map((s) => s.id)).toEqual([
      'sample-1-1',
      'sample-1-2',
      'sample-2-1',
      'sample-2-2',
    ]);
  });
});

describe('dead letters', () => {
  it('stores a record over its max attempts through the transport, with the reason', async () => {
    const { provider, letters } = await providerWithDeadLetters();
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen, {}, { maxAttempts: 3 }), {
      provider,
    });
    const wire = routerMessage({ workerId: 'sample-1', eventId: 1 });

    const response = await handler({
      Records: [sqsMessageRecord(wire, { attempt: 4 })],
    });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([]);
    expect(letters).toEqual([
      expect.objectContaining({
        channel: 'kv-events',
        group: 'recorder',
        attempts: 4,
        reason: expect.stringContaining('over the limit of 3 attempts'),
      }),
    ]);
    expect(letters[0]!.message.id).toBe('sample-1-1');
  });

  it('stores a record whose handler failed on its last attempt', async () => {
    const { provider, letters } = await providerWithDeadLetters();
    const fn = recorder(
      [],
      { 'sample-1-1': new Error('bad block') },
      {
        maxAttempts: 2,
      },
    );
    const handler = toLambda(fn, { provider });
    const wire = routerMessage({ workerId: 'sample-1', eventId: 1 });

    const response = await handler({
      Records: [sqsMessageRecord(wire, { attempt: 2 })],
    });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(letters[0]?.reason).toBe(
      'handler failed on attempt 2 of 2: Error: bad block',
    );
  });

  it('without a dead-letter transport, reports a permanent failure for the redrive policy', async () => {
    const logger = recordingLogger();
    const fn = recorder([], {
      'sample-1-1': new PermanentError('unknown worker'),
    });
    const handler = toLambda(fn, { provider, logger });
    const wire = routerMessage({ workerId: 'sample-1', eventId: 1 });

    const response = await handler({ Records: [sqsMessageRecord(wire)] });

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'sample-1-1' }],
    });
    const warned = logger.at('warn').map((l) => l.fields.reason);
    expect(warned).toEqual([
      'handler failed permanently on attempt 1: PermanentError: unknown worker',
    ]);
  });
});

describe('bad input', () => {
  it('dead-letters records that are not Switchyard messages and runs the rest', async () => {
    const { provider, letters } = await providerWithDeadLetters();
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen), { provider });
    const event = await sampleEvent<SQSEvent>('bad-sqs-records.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen.map((s) => s.id)).toEqual(['sample-1-4']);
    expect(letters.map((l) => [l.message.id, l.reason])).toEqual([
      ['raw-body', expect.stringContaining('is not a Switchyard envelope')],
      ['no-body', 'record no-body has no body: got undefined'],
      [
        'other-source',
        'record 2 comes from event source "aws:kinesis", not aws:sqs',
      ],
    ]);
    expect(new TextDecoder().decode(letters[0]!.message.body)).toBe(
      '{"orderId":42}',
    );
  });

  it('reports bad records failed when there is no dead-letter transport', async () => {
    const handler = toLambda(recorder([]), { provider });
    const event = await sampleEvent<SQSEvent>('bad-sqs-records.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'raw-body' },
        { itemIdentifier: 'no-body' },
        { itemIdentifier: 'other-source' },
      ],
    });
  });

  it('fails the whole batch for a record without a messageId, which cannot be named', async () => {
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen), { provider });
    const event = await sampleEvent<SQSEvent>('bad-sqs-no-message-id.json');

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
    expect(seen.map((s) => s.id)).toEqual(['sample-1-5']);
  });

  it('throws a LambdaEventError saying what it got for an event it cannot read', async () => {
    const handler = toLambda(recorder([]), { provider });
    const event = await sampleEvent('bad-event.json');

    const thrown = await handler(event).catch((error: unknown) => error);

    expect(thrown).toBeInstanceOf(LambdaEventError);
    expect((thrown as Error).message).toBe(
      "function 'recorder' received an event without a Records array: expected an SQS, SNS or S3 event, got an object with keys hello",
    );
    await expect(handler('ping')).rejects.toThrow('got string ping');
  });

  it('refuses an S3 event for a channel function', async () => {
    const handler = toLambda(recorder([]), { provider });
    const event = await sampleEvent('s3-put.json');

    await expect(handler(event)).rejects.toThrow(
      `function 'recorder' takes SQS or SNS events, got records of event source "aws:s3"`,
    );
  });

  it('reports SQS records sent to an objects function as failed', async () => {
    const fn = defineFunction({
      name: 'watcher',
      trigger: onObjects('router-snapshots'),
      handler: () => {},
    });
    const handler = toLambda(fn, { provider });
    const event = await sampleEvent<SQSEvent>('sqs-standard.json');

    const response = await handler(event);

    expect(response?.batchItemFailures).toHaveLength(3);
  });
});

describe('toLambda on an SNS event', () => {
  it('runs the handler on the notification message', async () => {
    const seen: Seen[] = [];
    const handler = toLambda(recorder(seen), { provider });
    const event = await sampleEvent('sns.json');

    const response = await handler(event, lambdaContext());

    expect(response).toBeUndefined();
    expect(seen).toEqual([{ id: 'sample-1-1', attempt: 1, group: 'sample-1' }]);
  });

  it('throws a LambdaBatchError naming the failed message, so Lambda retries', async () => {
    const fn = recorder([], { 'sample-1-1': new Error('index busy') });
    const handler = toLambda(fn, { provider });
    const event = await sampleEvent('sns.json');

    const thrown = await handler(event).catch((error: unknown) => error);

    expect(thrown).toBeInstanceOf(LambdaBatchError);
    expect((thrown as LambdaBatchError).failures).toEqual([
      { id: 'sns-sample-1-1', reason: 'Error: index busy' },
    ]);
  });
});

describe('toLambda on an S3 event', () => {
  function watcher(events: ObjectEvent[]) {
    return defineFunction({
      name: 'watcher',
      trigger: onObjects('router-snapshots', { prefix: 'snapshots/' }),
      handler: (event: ObjectEvent) => {
        events.push(event);
      },
    });
  }

  it('hands the handler the object event the local runner raises', async () => {
    const events: ObjectEvent[] = [];
    const fn = watcher(events);
    const pipeline = definePipeline({
      name: 'snapshots',
      objects: { 'router-snapshots': {} },
      functions: [fn],
    });
    const handler = toLambda(fn, { provider, pipeline });

    await handler(await sampleEvent('s3-put.json'), lambdaContext());
    await handler(await sampleEvent('s3-delete.json'), lambdaContext());

    expect(events).toEqual([
      {
        type: 'put',
        bucket: 'router-snapshots',
        name: 'snapshots/0001767225600000.json',
        info: expect.objectContaining({
          name: 'snapshots/0001767225600000.json',
          size: 1024,
        }),
      },
      {
        type: 'delete',
        bucket: 'router-snapshots',
        name: 'snapshots/0001767225600000.json',
      },
    ]);
  });

  it('throws a LambdaBatchError when the handler fails on an object', async () => {
    const fn = defineFunction({
      name: 'watcher',
      trigger: onObjects('router-snapshots'),
      handler: () => {
        throw new Error('snapshot unreadable');
      },
    });
    const handler = toLambda(fn, { provider });

    const thrown = await handler(await sampleEvent('s3-put.json')).catch(
      (error: unknown) => error,
    );

    expect((thrown as LambdaBatchError).failures).toEqual([
      {
        id: 'snapshots/0001767225600000.json',
        reason: 'Error: snapshot unreadable',
      },
    ]);
  });
});

describe('the runtime', () => {
  it('builds the provider once per cold start and reuses it', async () => {
    let built = 0;
    const handler = toLambda(recorder([]), {
      provider: () => {
        built++;
        return provider;
      },
    });
    const record: SQSRecord = sqsRecord('x', { messageId: 'm' });

    await handler({ Records: [record] });
    await handler({ Records: [record] });

    expect(built).toBe(1);
  });

  it('bounds an exactly-once lease by the time the invocation has left', async () => {
    const fn = defineFunction({
      name: 'slow',
      trigger: onChannel('kv-events', { group: 'slow' }),
      guarantee: 'exactly-once',
      leaseMs: 600_000,
      handler: async () => {
        const store = await provider.idempotency!.open(
          'switchyard-idempotency',
        );
        leased = (await store.get('slow#sample-1-1'))?.inProgressExpiration;
      },
    });
    let leased: number | undefined;
    const handler = toLambda(fn, { provider, safetyMarginMs: 1_000 });
    const wire = routerMessage({ workerId: 'sample-1', eventId: 1 });
    const before = Date.now();

    await handler({ Records: [sqsMessageRecord(wire)] }, lambdaContext(5_000));

    expect(leased).toBeGreaterThan(before);
    expect(leased).toBeLessThanOrEqual(Date.now() + 4_000);
  });
});
