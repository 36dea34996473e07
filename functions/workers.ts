/**
 * The simulated workers: producers that publish their share of the
 * generated events on `kv-events`, in order.
 */
import type { Producer } from '../src/functions/types.ts';
import {
  EVENTS_CHANNEL,
  eventMessageId,
  type RouterEvent,
} from './router-event.ts';

/**
 * One producer per worker id found in `events`, named after it. Each
 * publishes its worker's events in order, in batches of `batchSize`,
 * with the worker id as ordering key and `{workerId}-{eventId}` as
 * message id, so a re-publish is recognised as a duplicate. It stops
 * between batches when the pipeline stops, and throws the first entry
 * the channel refused.
 */
export function createWorkers(
  events: readonly RouterEvent[],
  batchSize: number,
): Producer[] {
  const byWorker = new Map<string, RouterEvent[]>();
  for (const event of events) {
    const list = byWorker.get(event.workerId) ?? [];
    list.push(event);
    byWorker.set(event.workerId, list);
  }

  return [...byWorker].map(([workerId, own]) => ({
    name: workerId,
    description: `simulated worker publishing ${own.length} events`,
    async run(context) {
      const channel = context.switchyard.channel<RouterEvent>(EVENTS_CHANNEL);
      for (let start = 0; start < own.length; start += batchSize) {
        if (context.signal.aborted) return;
        const batch = own.slice(start, start + batchSize).map((event) => ({
          data: event,
          id: eventMessageId(event),
          orderingKey: event.workerId,
        }));
        for (const result of await channel.publishBatch(batch)) {
          if (!result.ok) throw result.error;
        }
      }
    },
  }));
}
