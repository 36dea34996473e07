/**
 * The stats function: answers `router.stats` with this instance's
 * counters, so that a gather collects one answer per running router.
 */
import { defineFunction } from '../src/functions/define-function.ts';
import { onRequest } from '../src/functions/triggers.ts';
import { countBlocks } from './index-model.ts';
import { indexBucket, readIndex } from './index-store.ts';
import { STATS_SUBJECT } from './router-event.ts';

/** What one instance answers. */
export interface RouterStats {
  instanceId: string;
  /** Events the indexer of this instance handled. */
  eventsApplied: number;
  /** Deliveries skipped as already handled (exactly-once). */
  duplicates: number;
  /** Messages dead-lettered by this instance's indexer. */
  deadLettered: number;
  /** Workers in the index. */
  workers: number;
  /** Distinct blocks in the index. */
  blocks: number;
  /** Snapshots this instance wrote. */
  snapshots: number;
}

/** Serves {@link STATS_SUBJECT}; the request's data is ignored. */
export const routerStats = defineFunction<unknown, RouterStats>({
  name: 'stats',
  description: "answers with this instance's router counters",
  trigger: onRequest(STATS_SUBJECT),
  handler: async (_request, context) => {
    const { functions } = context.stats();
    const index = await readIndex(indexBucket(context.switchyard));

    return {
      instanceId: context.switchyard.instanceId,
      eventsApplied: functions.indexer?.succeeded ?? 0,
      duplicates: functions.indexer?.duplicates ?? 0,
      deadLettered: functions.indexer?.deadLettered ?? 0,
      workers: Object.keys(index).length,
      blocks: countBlocks(index),
      snapshots: functions.snapshot?.succeeded ?? 0,
    };
  },
});
