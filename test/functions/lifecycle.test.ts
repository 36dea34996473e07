import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError, TimeoutError } from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { runPipeline } from '../../src/functions/run-pipeline.ts';
import { every, onChannel } from '../../src/functions/triggers.ts';
import type { FunctionHandler } from '../../src/functions/types.ts';
import {
  createGate,
  eventually,
  expectError,
} from '../../src/testkit/helpers.ts';
import { Harness } from './fixtures.ts';

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(() => harness.release());

function jobsPipeline(
  handler: FunctionHandler<Message<number>>,
  hooks: { onStart?: () => void; onStop?: () => void } = {},
) {
  return definePipeline({
    name: 'jobs',
    channels: { jobs: {} },
    functions: [
      defineFunction({
        name: 'worker',
        trigger: onChannel('jobs', { group: 'worker' }),
        leaseMs: 200,
        handler,
        ...hooks,
      }),
    ],
  });
}

describe('idle()', () => {
  it('waits for the producers and for every message to be handled', async () => {
    const handled: number[] = [];
    const pipeline = definePipeline({
      name: 'jobs',
      channels: { jobs: {} },
      functions: [
        defineFunction({
          name: 'worker',
          trigger: onChannel('jobs', { group: 'worker' }),
          concurrency: 3,
          handler: async (message: Message<number>) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            handled.push(message.data);
          },
        }),
      ],
      producers: [
        {
          name: 'feed',
          async run(context) {
            const jobs = context.switchyard.channel<number>('jobs');
            for (let n = 0; n < 50; n++) await jobs.publish(n);
          },
        },
      ],
    });

    const { running, client } = await harness.run(pipeline);
    await running.idle();

    expect(handled).toHaveLength(50);
    const { consumers } = await client.admin.stats('jobs');
    expect(consumers.worker).toEqual({ lag: 0, inFlight: 0 });
  });

  it('rejects with a timeout error while a handler keeps running', async () => {
    const gate = createGate();
    const { running, client } = await harness.run(
      jobsPipeline(() => gate.opened),
    );
    await client.channel<number>('jobs').publish(1);

    await expectError(
      () => running.idle({ timeoutMs: 100, quietMs: 10 }),
      TimeoutError,
    );
    gate.open();
    await running.idle();
  });
});

describe('stop()', () => {
  it('lets a handler in flight finish within the deadline', async () => {
    const gate = createGate();
    let started = false;
    const { running, client } = await harness.run(
      jobsPipeline(async () => {
        started = true;
        await gate.opened;
      }),
    );
    await client.channel<number>('jobs').publish(1);
    await eventually(() => started);

    const stopped = running.stop({ timeoutMs: 5000 });
    gate.open();
    await stopped;

    expect(running.stats().functions.worker!.succeeded).toBe(1);
    const { consumers } = await client.admin.stats('jobs');
    expect(consumers.worker!.lag).toBe(0);
  });

  it('aborts a handler past the deadline, and its message is delivered again', async () => {
    let signal: AbortSignal | undefined;
    const client = await harness.client();
    const first = await harness.run(
      jobsPipeline(
        (_message, context) =>
          new Promise<void>((resolve) => {
            signal = context.signal;
            context.signal.addEventListener('abort', () => resolve());
          }),
      ),
      { switchyard: client },
    );
    await client.channel<number>('jobs').publish(7, { id: 'job-7' });
    await eventually(() => signal !== undefined);

    await first.running.stop({ timeoutMs: 20 });
    const attempts: number[] = [];
    const second = await harness.run(
      jobsPipeline((message, context) => {
        attempts.push(context.attempt);
        expect(message.id).toBe('job-7');
      }),
      { switchyard: client },
    );
    await second.running.idle();

    expect(signal?.aborted).toBe(true);
    expect(first.running.stats().functions.worker!.succeeded).toBe(0);
    expect(attempts).toHaveLength(1);
    expect(second.running.stats().functions.worker!.succeeded).toBe(1);
  });

  it('stops schedules and producers and runs the onStop hooks once', async () => {
    const order: string[] = [];
    let ticks = 0;
    const pipeline = definePipeline({
      name: 'clock',
      functions: [
        defineFunction({
          name: 'tick',
          trigger: every(1),
          onStart: () => {
            order.push('start');
          },
          onStop: () => {
            order.push('stop');
          },
          handler: () => {
            ticks++;
          },
        }),
      ],
      producers: [
        {
          name: 'endless',
          run: (context) =>
            new Promise<void>((resolve) =>
              context.signal.addEventListener('abort', () => resolve()),
            ),
        },
      ],
    });
    const { running } = await harness.run(pipeline);
    await eventually(() => ticks > 0);

    await Promise.all([running.stop(), running.stop()]);
    const after = ticks;
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(ticks).toBe(after);
    expect(order).toEqual(['start', 'stop']);
    expect(running.stats().producers.endless!.state).toBe('stopped');
  });
  it('gives up on a producer that ignores its signal at the deadline', async () => {
    const gate = createGate();
    const pipeline = definePipeline({
      name: 'feed',
      functions: [],
      producers: [{ name: 'stubborn', run: () => gate.opened }],
    });
    const { running } = await harness.run(pipeline);

    await running.stop({ timeoutMs: 20 });

    expect(running.stats().producers.stubborn!.state).toBe('running');
    expect(harness.logger.at('warn').map((l) => l.message)).toContain(
      'producers still running at the stop deadline',
    );
    gate.open();
  });
});

describe('runPipeline', () => {
  it('refuses to run a function the pipeline does not have', async () => {
    const client = await harness.client();

    const error = await expectError(
      () =>
        runPipeline(
          jobsPipeline(() => {}),
          {
            switchyard: client,
            functions: ['nobody'],
          },
        ),
      ConfigurationError,
    );

    expect(error.field).toBe('functions');
    expect(error.value).toBe('nobody');
  });

  it('rejects with what an onStart hook threw, and binds nothing', async () => {
    const client = await harness.client();
    let handled = 0;
    const pipeline = jobsPipeline(
      () => {
        handled++;
      },
      {
        onStart: () => {
          throw new RangeError('no snapshot');
        },
      },
    );

    await expectError(
      () => runPipeline(pipeline, { switchyard: client }),
      RangeError,
    );
    await client.channel<number>('jobs').publish(1);
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(handled).toBe(0);
  });
});
