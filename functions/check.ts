/**
 * The pipeline's check: the index in the bucket against the one computed
 * directly from the generated events.
 */
import type { Switchyard } from '../src/core/switchyard.ts';
import type { CheckResult } from '../src/functions/types.ts';
import { countBlocks, type RouterIndex } from './index-model.ts';
import { indexBucket, readIndex } from './index-store.ts';
import { EVENTS_CHANNEL, type RouterEvent } from './router-event.ts';

const SHOWN_MISMATCHES = 10;

/**
 * The index that `events` must produce, folded directly: for each worker
 * in event order, clear, remove, then store.
 */
export function expectedIndex(events: readonly RouterEvent[]): RouterIndex {
  const index: RouterIndex = {};
  for (const event of events) {
    const entry = index[event.workerId] ?? { lastEventId: 0, blocks: {} };
    index[event.workerId] = entry;
    if (event.cleared) entry.blocks = {};
    for (const hash of event.removed?.hashes ?? []) delete entry.blocks[hash];
    for (const { hash, parentHash } of event.stored?.blocks ?? []) {
      entry.blocks[hash] = parentHash ?? null;
    }
    entry.lastEventId = event.eventId;
  }
  return index;
}

/** The differences between two indexes, one line per worker. */
export function compareIndexes(
  actual: RouterIndex,
  expected: RouterIndex,
): string[] {
  const mismatches: string[] = [];
  const ids = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  for (const id of [...ids].sort()) {
    const found = actual[id];
    const wanted = expected[id];
    if (found === undefined || wanted === undefined) {
      mismatches.push(`${id}: ${found ? 'not expected' : 'missing'}`);
      continue;
    }
    const missing = Object.keys(wanted.blocks).filter(
      (h) => !Object.hasOwn(found.blocks, h),
    ).length;
    const extra = Object.keys(found.blocks).filter(
      (h) => !Object.hasOwn(wanted.blocks, h),
    ).length;
    const reparented = Object.keys(wanted.blocks).filter(
      (h) =>
        Object.hasOwn(found.blocks, h) && found.blocks[h] !== wanted.blocks[h],
    ).length;
    if (found.lastEventId !== wanted.lastEventId) {
      mismatches.push(
        `${id}: last event ${found.lastEventId}, expected ${wanted.lastEventId}`,
      );
    }
    if (missing + extra + reparented > 0) {
      mismatches.push(
        `${id}: ${missing} blocks missing, ${extra} extra, ${reparented} with another parent`,
      );
    }
  }
  return mismatches;
}

/** The check of the reference pipeline for `events`. */
export function createCheck(
  events: () => readonly RouterEvent[],
): (switchyard: Switchyard) => Promise<CheckResult> {
  return async (switchyard) => {
    const all = events();
    const expected = expectedIndex(all);
    const actual = await readIndex(indexBucket(switchyard));
    const mismatches = compareIndexes(actual, expected);
    const { deadLettered, depth } =
      await switchyard.admin.stats(EVENTS_CHANNEL);
    const workers = Object.keys(expected).length;
    const blocks = countBlocks(expected);

    return {
      ok: mismatches.length === 0,
      summary:
        mismatches.length === 0
          ? `the index matches ${all.length} events: ${workers} workers holding ${blocks} distinct blocks`
          : `the index differs from ${all.length} events on ${mismatches.length} counts: ${mismatches.slice(0, 3).join('; ')}`,
      details: {
        events: all.length,
        workers,
        blocks,
        mismatches: mismatches.slice(0, SHOWN_MISMATCHES),
        deadLettered,
        channelDepth: depth,
      },
    };
  };
}
