/**
 * The index in its key-value bucket: one entry per worker, updated by
 * compare-and-swap, and the queries over it.
 */
import { ConflictError } from '../src/core/errors.ts';
import type { KvBucket } from '../src/core/kv.ts';
import type { Switchyard } from '../src/core/switchyard.ts';
import {
  applyEvent,
  type RouterIndex,
  WORKER_PREFIX,
  type WorkerEntry,
  workerKey,
  workersByBlock,
} from './index-model.ts';
import { INDEX_BUCKET, type RouterEvent } from './router-event.ts';

/** Compare-and-swap tries before the event is left to a redelivery. */
const CAS_TRIES = 20;

/** The index bucket of `switchyard`. */
export function indexBucket(switchyard: Switchyard): KvBucket<WorkerEntry> {
  return switchyard.kv<WorkerEntry>(INDEX_BUCKET);
}

/**
 * Applies `event` to its worker's entry with compare-and-swap, trying
 * again when another writer got there first. Returns whether the entry
 * changed: false when the event had been applied already. Throws the
 * last ConflictError after {@link CAS_TRIES} lost races, so the message
 * is delivered again later.
 */
export async function applyToIndex(
  bucket: KvBucket<WorkerEntry>,
  event: RouterEvent,
): Promise<boolean> {
  const key = workerKey(event.workerId);
  let lost: ConflictError | undefined;

  for (let tries = 0; tries < CAS_TRIES; tries++) {
    const current = await bucket.get(key);
    const next = applyEvent(current?.value, event);
    if (next === undefined) return false;
    try {
      if (current === undefined) await bucket.create(key, next);
      else await bucket.update(key, next, current.revision);
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      lost = error;
    }
  }

  throw lost;
}

/** The whole index, read entry by entry. */
export async function readIndex(
  bucket: KvBucket<WorkerEntry>,
): Promise<RouterIndex> {
  const index: RouterIndex = {};
  for await (const entry of bucket.entries(WORKER_PREFIX)) {
    index[entry.key.slice(WORKER_PREFIX.length)] = entry.value;
  }
  return index;
}

/** Whether the bucket holds no worker entry. */
export async function isIndexEmpty(
  bucket: KvBucket<WorkerEntry>,
): Promise<boolean> {
  for await (const _ of bucket.keys(WORKER_PREFIX)) return false;
  return true;
}

/**
 * The workers that hold block `hash`, in ascending order: the router's
 * question when it places a request whose prompt starts with that block.
 *
 * @example
 * await workersHolding(indexBucket(sy), '3f2a9c0d1e4b5a67'); // ['worker-2']
 */
export async function workersHolding(
  bucket: KvBucket<WorkerEntry>,
  hash: string,
): Promise<string[]> {
  return workersByBlock(await readIndex(bucket)).get(hash) ?? [];
}
