/**
 * The reference pipeline: the KV-cache event flow of an LLM router.
 *
 * Simulated workers publish `RouterEvent`s on `kv-events` (ordered by
 * worker id); the `indexer` (worker group, exactly-once) applies them to
 * the `router-index` bucket, one entry per worker updated by
 * compare-and-swap; `snapshot` writes the index to `router-snapshots` on
 * a schedule and purges the events it covers; a starting indexer loads
 * the newest snapshot into an empty index and the group replays the
 * rest; `stats` answers `router.stats` with each instance's counters.
 * The check compares the index with one computed directly from the
 * generated events.
 *
 * The default export is the pipeline `switchyard dev` runs, configured
 * from the environment (see `optionsFromEnv`). Message ids are
 * `{workerId}-{eventId}`, so running again on the same data folder
 * publishes duplicates that change nothing; with another seed or fewer
 * events, use a fresh data folder, or the index holds events that the
 * check does not expect.
 */
import {
  definePipeline,
  type Pipeline,
} from '../src/functions/define-pipeline.ts';
import { createCheck } from './check.ts';
import { generateEvents } from './generator.ts';
import { indexer } from './indexer.ts';
import {
  EVENTS_CHANNEL,
  INDEX_BUCKET,
  RouterEventSchema,
  SNAPSHOT_BUCKET,
} from './router-event.ts';
import { routerStats } from './router-stats.ts';
import {
  optionsFromEnv,
  type RouterOptions,
  resolveSettings,
} from './settings.ts';
import { createSnapshotter } from './snapshotter.ts';
import { createWorkers } from './workers.ts';

/**
 * Builds the reference pipeline for `options`: which events the workers
 * publish, how often snapshots are taken. Throws a RangeError naming a
 * bad option.
 *
 * @example
 * ```ts
 * const pipeline = createRouterPipeline({ count: 500, workers: 2 });
 * const running = await runPipeline(pipeline, { switchyard });
 * await running.idle();
 * (await pipeline.check!(switchyard)).ok; // true
 * ```
 */
export function createRouterPipeline(options: RouterOptions = {}): Pipeline {
  const settings = resolveSettings(options);
  let generated: ReturnType<typeof generateEvents> | undefined;
  const events = () => (generated ??= generateEvents(settings));

  return definePipeline({
    name: 'kv-router',
    description: 'the KV-cache event flow of an LLM router',
    channels: {
      [EVENTS_CHANNEL]: { schema: RouterEventSchema, ordered: true },
    },
    kv: { [INDEX_BUCKET]: {} },
    objects: { [SNAPSHOT_BUCKET]: {} },
    functions: [
      indexer,
      createSnapshotter({
        everyMs: settings.snapshotEveryMs,
        keep: settings.keepSnapshots,
      }),
      routerStats,
    ],
    producers: createWorkers(
      events().slice(settings.from, settings.to),
      settings.batchSize,
    ),
    check: createCheck(() => events().slice(0, settings.to)),
  });
}

/** The reference pipeline with the settings of the environment. */
export default createRouterPipeline(optionsFromEnv());
