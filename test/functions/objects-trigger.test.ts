import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FAILED_EVENTS_GROUP,
  type FailedObjectEvent,
  failedEventsChannel,
} from '../../src/functions/bindings/objects.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { onObjects } from '../../src/functions/triggers.ts';
import type { ObjectEvent } from '../../src/functions/types.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { fastBackoff, Harness } from './fixtures.ts';

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(() => harness.release());

function watching(
  events: ObjectEvent[],
  trigger = onObjects('uploads', { pollIntervalMs: 5 }),
) {
  return definePipeline({
    name: 'files',
    objects: { uploads: {} },
    functions: [
      defineFunction({
        name: 'watcher',
        trigger,
        backoff: fastBackoff,
        handler: (event: ObjectEvent) => {
          events.push(event);
        },
      }),
    ],
  });
}

describe('an objects trigger', () => {
  it('reports puts, rewrites and deletes made after the start, not objects already there', async () => {
    const events: ObjectEvent[] = [];
    const client = await harness.client();
    const bucket = client.objects('uploads');
    await bucket.put('old.txt', 'before');

    await harness.run(watching(events), { switchyard: client });
    await bucket.put('a.txt', 'one');
    await eventually(() => events.length === 1);
    await bucket.put('a.txt', 'two');
    await eventually(() => events.length === 2);
    await bucket.delete('a.txt');
    await eventually(() => events.length === 3);

    expect(events.map((e) => [e.type, e.name])).toEqual([
      ['put', 'a.txt'],
      ['put', 'a.txt'],
      ['delete', 'a.txt'],
    ]);
    expect(events[0]!.bucket).toBe('uploads');
    expect(events[1]!.info?.size).toBe(3);
    expect(events[0]!.info?.etag).not.toBe(events[1]!.info?.etag);
  });

  it('keeps to its prefix and its kinds of event', async () => {
    const events: ObjectEvent[] = [];
    const client = await harness.client();
    const trigger = onObjects('uploads', {
      prefix: 'in/',
      events: ['put'],
      pollIntervalMs: 5,
    });
    await harness.run(watching(events, trigger), { switchyard: client });
    const bucket = client.objects('uploads');

    await bucket.put('out/x', 'x');
    await bucket.put('in/y', 'y');
    await eventually(() => events.length === 1);
    await bucket.delete('in/y');
    await bucket.put('in/z', 'z');
    await eventually(() => events.some((e) => e.name === 'in/z'));

    expect(events.map((e) => [e.type, e.name])).toEqual([
      ['put', 'in/y'],
      ['put', 'in/z'],
    ]);
  });

  it('retries a failing handler, then keeps the event with its error on the failed-events channel', async () => {
    let attempts = 0;
    const pipeline = definePipeline({
      name: 'files',
      objects: { uploads: {} },
      functions: [
        defineFunction({
          name: 'broken',
          trigger: onObjects('uploads', { pollIntervalMs: 5 }),
          maxAttempts: 3,
          backoff: fastBackoff,
          handler: () => {
            attempts++;
            throw new Error('cannot read it');
          },
        }),
      ],
    });
    const { running, client } = await harness.run(pipeline);

    await client.objects('uploads').put('bad.bin', 'x');
    await eventually(() =>
      harness.logger
        .at('error')
        .some(
          (l) => l.message === 'object event failed on every attempt; kept',
        ),
    );
    const operators = await client
      .channel<FailedObjectEvent>(failedEventsChannel('broken'))
      .consumer({ group: FAILED_EVENTS_GROUP });
    const [kept] = await operators.fetch(1, { waitMs: 1000 });
    await operators.close();

    expect(attempts).toBe(3);
    expect(kept?.message.data).toMatchObject({
      event: { type: 'put', bucket: 'uploads', name: 'bad.bin' },
      reason: 'Error: cannot read it',
      attempts: 3,
    });
    expect(running.stats().functions.broken).toMatchObject({
      delivered: 1,
      failed: 3,
      retried: 2,
      succeeded: 0,
      deadLettered: 1,
    });
  });
});
