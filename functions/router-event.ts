/**
 * The router's KV-cache events: what a serving worker reports when it
 * stores blocks of its KV cache, evicts some, or clears it all.
 */
import { z } from 'zod';

/** The channel workers publish their events on. */
export const EVENTS_CHANNEL = 'kv-events';
/** The indexer's worker group on {@link EVENTS_CHANNEL}. */
export const INDEXER_GROUP = 'indexer';
/** The key-value bucket of the index. */
export const INDEX_BUCKET = 'router-index';
/** The object bucket of index snapshots. */
export const SNAPSHOT_BUCKET = 'router-snapshots';
/** The subject the stats function answers on. */
export const STATS_SUBJECT = 'router.stats';

const WORKER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A block of a worker's KV cache: its hash and the previous block's. */
export const BlockSchema = z.object({
  hash: z.string().min(1).max(64),
  parentHash: z.string().min(1).max(64).optional(),
});

/**
 * One event of one worker. `eventId` counts the worker's events from 1;
 * events of a worker are applied in that order. An event holds at least
 * one of `cleared`, `removed` and `stored`, applied in that order.
 */
export const RouterEventSchema = z
  .object({
    workerId: z.string().regex(WORKER_ID, 'letters, digits, _ and -'),
    eventId: z.number().int().positive(),
    stored: z.object({ blocks: z.array(BlockSchema).min(1) }).optional(),
    removed: z.object({ hashes: z.array(z.string().min(1)).min(1) }).optional(),
    cleared: z.literal(true).optional(),
  })
  .refine(
    (e) =>
      e.stored !== undefined || e.removed !== undefined || e.cleared === true,
    { message: 'an event stores, removes or clears something' },
  );

/** One event of one worker; see {@link RouterEventSchema}. */
export type RouterEvent = z.infer<typeof RouterEventSchema>;

/** A block of a KV cache. */
export type Block = z.infer<typeof BlockSchema>;

/** The message id of `event`: stable, so a re-publish is a duplicate. */
export function eventMessageId(event: RouterEvent): string {
  return `${event.workerId}-${event.eventId}`;
}
