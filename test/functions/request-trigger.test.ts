import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/core/errors.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { onRequest } from '../../src/functions/triggers.ts';
import { expectError } from '../../src/testkit/helpers.ts';
import { Harness } from './fixtures.ts';

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(() => harness.release());

const echo = defineFunction<{ text: string }, { text: string; by: string }>({
  name: 'echo',
  trigger: onRequest('demo.echo'),
  handler: (request, context) => {
    if (request.text === 'boom') throw new TypeError('cannot echo boom');
    return { text: request.text, by: context.switchyard.instanceId };
  },
});
const pipeline = definePipeline({ name: 'demo', functions: [echo] });

describe('a request trigger', () => {
  it('answers requests with the return value of the handler', async () => {
    const { running, client } = await harness.run(pipeline);

    const reply = await client.request('demo.echo', { text: 'hi' });

    expect(reply).toEqual({ text: 'hi', by: client.instanceId });
    expect(running.stats().functions.echo).toMatchObject({
      trigger: 'request',
      delivered: 1,
      succeeded: 1,
    });
  });

  it('sends what the handler throws back as a remote error and counts it', async () => {
    const { running, client } = await harness.run(pipeline);

    const error = await expectError(
      () => client.request('demo.echo', { text: 'boom' }),
      RemoteError,
    );

    expect(error.remoteName).toBe('TypeError');
    expect(running.stats().functions.echo!.failed).toBe(1);
  });

  it('gathers one reply from each running instance', async () => {
    const a = await harness.run(pipeline);
    const b = await harness.run(pipeline);

    const replies = await a.client.gather(
      'demo.echo',
      { text: 'all' },
      { expected: 2, timeoutMs: 5000 },
    );

    const by = replies.map((r) => (r.ok ? (r.data as { by: string }).by : ''));
    expect(by.sort()).toEqual(
      [a.client.instanceId, b.client.instanceId].sort(),
    );
  });
});
