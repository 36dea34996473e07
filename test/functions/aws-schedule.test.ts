import type { ScheduledEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { scheduledEvent } from '../../events/aws/samples.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import {
  EVENTS_CHANNEL,
  INDEXER_GROUP,
  SNAPSHOT_BUCKET,
} from '../../functions/router-event.ts';
import { SNAPSHOT_PREFIX } from '../../functions/snapshots.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Provider } from '../../src/core/provider.ts';
import { LambdaEventError, toLambda } from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { every } from '../../src/functions/triggers.ts';
import type {
  FunctionContext,
  ScheduleEvent,
} from '../../src/functions/types.ts';
import { lambdaContext, memoryProvider, sampleEvent } from './aws-fixtures.ts';
import { recordingLogger } from './fixtures.ts';

type Run = { scheduledAt: Date; name: string; attempt: number };

/** A schedule function that records its runs and throws `failure`. */
function ticker(runs: Run[], failure?: Error) {
  return defineFunction({
    name: 'ticker',
    trigger: every(60_000),
    handler: (event: ScheduleEvent, context: FunctionContext) => {
      runs.push({
        scheduledAt: event.scheduledAt,
        name: context.name,
        attempt: context.attempt,
      });
      if (failure !== undefined) throw failure;
    },
  });
}

let provider: Provider;
beforeEach(async () => {
  provider = await memoryProvider();
});

describe('toLambda on a scheduled event', () => {
  it('runs the function once per event with the time the rule fired', async () => {
    const runs: Run[] = [];
    const handler = toLambda(ticker(runs), { provider });
    const first = await sampleEvent<ScheduledEvent>('schedule.json');
    const second = scheduledEvent(new Date('2026-01-01T00:01:00Z'));

    const results = [
      await handler(first, lambdaContext()),
      await handler(second, lambdaContext()),
    ];

    expect(results).toEqual([undefined, undefined]);
    expect(runs).toEqual([
      {
        scheduledAt: new Date('2026-01-01T00:00:00Z'),
        name: 'ticker',
        attempt: 1,
      },
      {
        scheduledAt: new Date('2026-01-01T00:01:00Z'),
        name: 'ticker',
        attempt: 1,
      },
    ]);
  });

  it('runs the reference snapshot function, which writes a snapshot', async () => {
    const pipeline = createRouterPipeline({ count: 10, workers: 1 });
    const snapshot = pipeline.functions.find((f) => f.name === 'snapshot')!;
    const handler = toLambda(snapshot, { provider, pipeline });
    const client = createSwitchyard({ provider });
    // The channel and its indexer group exist, as the deployed stack has them.
    await client
      .channel(EVENTS_CHANNEL, { groups: [INDEXER_GROUP] })
      .consumer({ group: INDEXER_GROUP })
      .then((consumer) => consumer.close());

    await handler(scheduledEvent(), lambdaContext());

    const names: string[] = [];
    for await (const info of client.objects(SNAPSHOT_BUCKET).list()) {
      names.push(info.name);
    }
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(new RegExp(`^${SNAPSHOT_PREFIX}`));
  });

  it('throws the handler error, so that Lambda retries the event, and logs it', async () => {
    const runs: Run[] = [];
    const logger = recordingLogger();
    const failure = new RangeError('snapshot store full');
    const handler = toLambda(ticker(runs, failure), { provider, logger });

    const run = handler(scheduledEvent(), lambdaContext());

    await expect(run).rejects.toBe(failure);
    expect(runs).toHaveLength(1);
    expect(logger.at('error')).toMatchObject([
      {
        message: 'scheduled run failed',
        fields: { function: 'ticker', errorName: 'RangeError' },
      },
    ]);
  });

  it('counts failed runs in the stats the handler sees', async () => {
    const seen: unknown[] = [];
    let calls = 0;
    const fn = defineFunction({
      name: 'flaky',
      trigger: every(60_000),
      handler: (_event: ScheduleEvent, context) => {
        calls++;
        if (calls === 1) throw new Error('first run fails');
        seen.push(context.stats().functions.flaky);
      },
    });
    const handler = toLambda(fn, { provider });

    await expect(handler(scheduledEvent(), lambdaContext())).rejects.toThrow(
      'first run fails',
    );
    await handler(scheduledEvent(), lambdaContext());

    expect(seen).toMatchObject([
      { trigger: 'schedule', delivered: 2, runs: 2, failed: 1, inFlight: 1 },
    ]);
  });
});

describe('bad events for a schedule function', () => {
  it.each([
    ['an EventBridge event of another kind', 'bad-schedule.json'],
    ['an SQS event', 'sqs-standard.json'],
    ['an object that is no Lambda event', 'bad-event.json'],
  ])('refuses %s with a LambdaEventError', async (_what, file) => {
    const runs: Run[] = [];
    let starts = 0;
    const handler = toLambda(ticker(runs), {
      provider: () => {
        starts++;
        return provider;
      },
    });
    const event = await sampleEvent(file);

    const run = handler(event, lambdaContext());

    await expect(run).rejects.toBeInstanceOf(LambdaEventError);
    await expect(run).rejects.toThrow(/function 'ticker' takes EventBridge/);
    expect(runs).toEqual([]);
    expect(starts).toBe(0);
  });

  it('names the detail-type and source it received', async () => {
    const handler = toLambda(ticker([]), { provider });
    const event = await sampleEvent('bad-schedule.json');

    const error = await handler(event).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'LAMBDA_EVENT',
      message: expect.stringContaining(
        'got source "aws.ec2", detail-type "EC2 Instance State-change Notification"',
      ),
    });
  });

  it('refuses a scheduled event whose time is not a date', async () => {
    const handler = toLambda(ticker([]), { provider });
    const event = { ...scheduledEvent(), time: 'soon' };

    const run = handler(event, lambdaContext());

    await expect(run).rejects.toBeInstanceOf(LambdaEventError);
    await expect(run).rejects.toThrow(/time is not a date: got "soon"/);
  });
});
