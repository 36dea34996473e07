import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  indexBucket,
  isIndexEmpty,
  readIndex,
} from '../../functions/index-store.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import { EVENTS_CHANNEL, INDEX_BUCKET } from '../../functions/router-event.ts';
import { takeSnapshot } from '../../functions/snapshots.ts';
import { LocalHarness } from './fixtures.ts';

let harness: LocalHarness;
beforeEach(() => {
  harness = new LocalHarness();
});
afterEach(() => harness.release());

const RUN = { count: 1000, workers: 4, snapshotEveryMs: 60_000 };

describe('a restarted indexer', () => {
  it('loads the newest snapshot into an empty index and replays only the rest', async () => {
    const dataDir = await harness.dataDir();
    const before = await harness.client(dataDir);
    const firstHalf = createRouterPipeline({ ...RUN, publish: { to: 500 } });
    const first = await harness.run(firstHalf, before);
    await first.idle();
    const snapshot = await takeSnapshot(before);
    await first.stop();
    await before.close();

    const provider = await harness.provider(dataDir);
    await provider.kv!.delete(INDEX_BUCKET);
    await provider.close();
    const after = await harness.client(dataDir);
    const emptied = await isIndexEmpty(indexBucket(after));
    const depthAtRestart = (await after.admin.stats(EVENTS_CHANNEL)).depth;
    const rest = createRouterPipeline({ ...RUN, publish: { from: 500 } });
    const second = await harness.run(rest, after);
    await second.idle();
    const result = await rest.check!(after);

    expect(snapshot.upToSequence).toBeGreaterThan(0);
    expect(snapshot.purged).toBeGreaterThan(0);
    expect(emptied).toBe(true);
    expect(depthAtRestart).toBe(0);
    expect(result.summary).toContain('matches 1000 events');
    expect(result.ok).toBe(true);
    expect(second.stats().functions.indexer!.succeeded).toBe(500);
    expect(
      harness.logger
        .at('info')
        .some((l) => l.message === 'index restored from a snapshot'),
    ).toBe(true);
  });

  it('keeps an index that is not empty instead of loading a snapshot', async () => {
    const dataDir = await harness.dataDir();
    const client = await harness.client(dataDir);
    const pipeline = createRouterPipeline({ ...RUN, count: 200 });
    const first = await harness.run(pipeline, client);
    await first.idle();
    await first.stop();
    const index = await readIndex(indexBucket(client));

    const again = createRouterPipeline({ ...RUN, count: 200 });
    const second = await harness.run(again, client);
    await second.idle();

    expect(await readIndex(indexBucket(client))).toEqual(index);
    expect(
      harness.logger
        .at('info')
        .some((l) => l.message === 'index restored from a snapshot'),
    ).toBe(false);
  });
});
