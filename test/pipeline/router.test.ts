import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import routerPipeline, {
  createRouterPipeline,
} from '../../functions/pipeline.ts';
import { EVENTS_CHANNEL, STATS_SUBJECT } from '../../functions/router-event.ts';
import type { RouterStats } from '../../functions/router-stats.ts';
import { LocalHarness } from './fixtures.ts';

let harness: LocalHarness;
beforeEach(() => {
  harness = new LocalHarness();
});
afterEach(() => harness.release());

describe('the reference pipeline', () => {
  it('is the default export that switchyard dev loads', () => {
    expect(routerPipeline.name).toBe('kv-router');
    expect(routerPipeline.functions.map((f) => f.name)).toEqual([
      'indexer',
      'snapshot',
      'stats',
    ]);
    expect(routerPipeline.producers.length).toBeGreaterThan(0);
    expect(routerPipeline.channels[EVENTS_CHANNEL]?.ordered).toBe(true);
  });

  it('runs to idle on the local provider and builds the index its events describe', async () => {
    const client = await harness.client();
    const pipeline = createRouterPipeline({
      count: 1500,
      workers: 4,
      snapshotEveryMs: 100,
    });

    const running = await harness.run(pipeline, client);
    await running.idle();
    const result = await pipeline.check!(client);

    expect(result.summary).toContain('matches 1500 events');
    expect(result.ok).toBe(true);
    expect(result.details).toMatchObject({ deadLettered: 0, mismatches: [] });
    expect(await client.admin.deadLetters(EVENTS_CHANNEL)).toEqual([]);
    const stats = running.stats();
    expect(stats.published).toBe(1500);
    expect(stats.functions.indexer).toMatchObject({
      succeeded: 1500,
      deadLettered: 0,
    });
  });

  it('answers router.stats with the counters of each running instance', async () => {
    const client = await harness.client();
    const pipeline = createRouterPipeline({ count: 200, workers: 2 });
    const running = await harness.run(pipeline, client);
    await running.idle();

    const replies = await client.gather<unknown, RouterStats>(
      STATS_SUBJECT,
      {},
      { expected: 1, timeoutMs: 5000 },
    );

    expect(replies).toHaveLength(1);
    const [reply] = replies;
    expect(reply?.ok).toBe(true);
    expect(reply?.ok && reply.data).toMatchObject({
      instanceId: client.instanceId,
      eventsApplied: 200,
      deadLettered: 0,
      workers: 2,
    });
    expect(reply?.ok && reply.data.blocks).toBeGreaterThan(0);
  });

  it('purges the events a snapshot covers and keeps the newest snapshots', async () => {
    const client = await harness.client();
    const pipeline = createRouterPipeline({
      count: 400,
      workers: 2,
      snapshotEveryMs: 20,
      keepSnapshots: 2,
    });
    const running = await harness.run(pipeline, client);
    await running.idle();
    const snapshots = running.stats().functions.snapshot!.succeeded;

    await running.stop();
    const names: string[] = [];
    for await (const info of client.objects('router-snapshots').list()) {
      names.push(info.name);
    }

    expect(snapshots).toBeGreaterThan(0);
    expect(names.length).toBeLessThanOrEqual(2);
    expect(names.every((n) => /^snapshots\/\d{15}\.json$/.test(n))).toBe(true);
    expect((await client.admin.stats(EVENTS_CHANNEL)).depth).toBe(0);
  });
});
