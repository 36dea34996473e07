/**
 * The index as data: per worker, the blocks it holds and the last event
 * applied, and the pure functions that update and query it.
 */
import type { RouterEvent } from './router-event.ts';

/**
 * What the index keeps for one worker, under key `workers.{workerId}`:
 * `blocks` maps each block hash it holds to its parent's hash (null for
 * a first block), `lastEventId` is the last event applied.
 */
export interface WorkerEntry {
  lastEventId: number;
  blocks: Record<string, string | null>;
}

/** The whole index: one entry per worker id. */
export type RouterIndex = Record<string, WorkerEntry>;

/** The key of `workerId`'s entry. */
export function workerKey(workerId: string): string {
  return `workers.${workerId}`;
}

/** The prefix of every worker key. */
export const WORKER_PREFIX = 'workers.';

/**
 * Applies `event` to `entry` (undefined for a worker not seen yet) and
 * returns the new entry, or undefined when the event was already applied
 * (its id is not above `lastEventId`): applying an event twice, even out
 * of order, leaves the entry as it was.
 *
 * @example
 * applyEvent(undefined, { workerId: 'w1', eventId: 1, cleared: true });
 * // { lastEventId: 1, blocks: {} }
 */
export function applyEvent(
  entry: WorkerEntry | undefined,
  event: RouterEvent,
): WorkerEntry | undefined {
  const last = entry?.lastEventId ?? 0;
  if (event.eventId <= last) return undefined;
  const blocks = event.cleared ? {} : { ...entry?.blocks };

  for (const hash of event.removed?.hashes ?? []) delete blocks[hash];
  for (const block of event.stored?.blocks ?? []) {
    blocks[block.hash] = block.parentHash ?? null;
  }

  return { lastEventId: event.eventId, blocks };
}

/**
 * Inverts the index: for each block hash, the workers that hold it, in
 * ascending order.
 */
export function workersByBlock(index: RouterIndex): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  for (const workerId of Object.keys(index).sort()) {
    for (const hash of Object.keys(index[workerId]!.blocks)) {
      const list = holders.get(hash) ?? [];
      list.push(workerId);
      holders.set(hash, list);
    }
  }
  return holders;
}

/** How many distinct blocks the index holds, over all workers. */
export function countBlocks(index: RouterIndex): number {
  return workersByBlock(index).size;
}
