/**
 * The indexer: applies each worker's events, in order, to the index of
 * which worker holds which block.
 */
import type { Message } from '../src/core/message.ts';
import { defineFunction } from '../src/functions/define-function.ts';
import { onChannel } from '../src/functions/triggers.ts';
import { applyToIndex, indexBucket } from './index-store.ts';
import {
  EVENTS_CHANNEL,
  INDEXER_GROUP,
  type RouterEvent,
} from './router-event.ts';
import { restoreSnapshot } from './snapshots.ts';

/**
 * A member of worker group `indexer` on `kv-events`, exactly-once. The
 * channel is ordered by worker id, so events of one worker arrive one at
 * a time in order while workers are applied concurrently. On start, an
 * empty index is loaded from the newest snapshot before the group
 * replays the rest. The stored result says whether the event changed
 * the index.
 */
export const indexer = defineFunction({
  name: 'indexer',
  description: 'applies KV-cache events to the router index',
  trigger: onChannel(EVENTS_CHANNEL, { group: INDEXER_GROUP }),
  guarantee: 'exactly-once',
  concurrency: 4,
  maxAttempts: 5,
  onStart: async (context) => {
    await restoreSnapshot(context.switchyard, context.logger);
  },
  handler: async (message: Message<RouterEvent>, context) => {
    const bucket = indexBucket(context.switchyard);
    const changed = await applyToIndex(bucket, message.data);
    if (!changed) {
      context.logger.debug('event already in the index', {
        workerId: message.data.workerId,
        eventId: message.data.eventId,
      });
    }
    return { changed };
  },
});
