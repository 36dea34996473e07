import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateEvents } from '../../functions/generator.ts';
import { applyEvent, workersByBlock } from '../../functions/index-model.ts';
import {
  applyToIndex,
  indexBucket,
  readIndex,
  workersHolding,
} from '../../functions/index-store.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import {
  EVENTS_CHANNEL,
  type RouterEvent,
} from '../../functions/router-event.ts';
import { LocalHarness } from './fixtures.ts';

let harness: LocalHarness;
beforeEach(() => {
  harness = new LocalHarness();
});
afterEach(() => harness.release());

function stored(eventId: number, ...hashes: string[]): RouterEvent {
  return {
    workerId: 'w1',
    eventId,
    stored: {
      blocks: hashes.map((hash, i) =>
        i === 0 ? { hash } : { hash, parentHash: hashes[i - 1]! },
      ),
    },
  };
}

describe('applying an event', () => {
  it('stores blocks with their parents, removes and clears them', () => {
    const first = applyEvent(undefined, stored(1, 'a', 'b'));
    const second = applyEvent(first, {
      workerId: 'w1',
      eventId: 2,
      removed: { hashes: ['b'] },
    });
    const third = applyEvent(second, {
      workerId: 'w1',
      eventId: 3,
      cleared: true,
    });

    expect(first).toEqual({ lastEventId: 1, blocks: { a: null, b: 'a' } });
    expect(second).toEqual({ lastEventId: 2, blocks: { a: null } });
    expect(third).toEqual({ lastEventId: 3, blocks: {} });
  });

  it('twice, or after a later event, leaves the entry unchanged', () => {
    const once = applyEvent(undefined, stored(1, 'a'));
    const later = applyEvent(once, {
      workerId: 'w1',
      eventId: 2,
      removed: { hashes: ['a'] },
    });

    expect(applyEvent(once, stored(1, 'a'))).toBeUndefined();
    expect(applyEvent(later, stored(1, 'a'))).toBeUndefined();
  });

  it('to the bucket twice changes the entry once', async () => {
    const client = await harness.client();
    const bucket = indexBucket(client);
    const event = stored(1, 'a', 'b');

    const first = await applyToIndex(bucket, event);
    const second = await applyToIndex(bucket, event);

    expect([first, second]).toEqual([true, false]);
    expect(await readIndex(bucket)).toEqual({
      w1: { lastEventId: 1, blocks: { a: null, b: 'a' } },
    });
    expect(await workersHolding(bucket, 'b')).toEqual(['w1']);
  });
});

describe('the reference pipeline', () => {
  it('leaves the index unchanged when an event is published again under another id', async () => {
    const client = await harness.client();
    const pipeline = createRouterPipeline({ count: 300, workers: 3 });
    const running = await harness.run(pipeline, client);
    await running.idle();
    const before = await readIndex(indexBucket(client));
    const replayed = generateEvents({ count: 300, workers: 3 }).slice(0, 40);

    const channel = client.channel<RouterEvent>(EVENTS_CHANNEL, {
      ordered: true,
    });
    for (const event of replayed) {
      await channel.publish(event, {
        id: `again-${event.workerId}-${event.eventId}`,
        orderingKey: event.workerId,
      });
    }
    await running.idle();

    expect(await readIndex(indexBucket(client))).toEqual(before);
    expect((await pipeline.check!(client)).ok).toBe(true);
    expect(running.stats().functions.indexer!.succeeded).toBe(340);
  });

  it('answers which workers hold a block from the inverted index', async () => {
    const client = await harness.client();
    const pipeline = createRouterPipeline({ count: 300, workers: 3 });
    const running = await harness.run(pipeline, client);
    await running.idle();

    const index = await readIndex(indexBucket(client));
    const [hash, holders] = [...workersByBlock(index)][0]!;

    expect(await workersHolding(indexBucket(client), hash)).toEqual(holders);
    for (const workerId of holders) {
      expect(Object.hasOwn(index[workerId]!.blocks, hash)).toBe(true);
    }
  });
});
