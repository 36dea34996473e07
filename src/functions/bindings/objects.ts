/**
 * Objects triggers: the bucket is listed every `pollIntervalMs` and the
 * etags compared with the previous listing, so writes and deletes made by
 * any process are found.
 */

import type { Channel } from '../../core/channel.ts';
import type { ObjectInfo } from '../../core/provider.ts';
import { backoffDelay, resolveBackoff } from '../../delivery/backoff.ts';
import { describeError, errorFields } from '../../delivery/errors.ts';
import { sleep } from '../../delivery/sleep.ts';
import type { ObjectEvent, ObjectsTrigger } from '../types.ts';
import {
  type Binding,
  type BindingEnv,
  functionContext,
  settledWithin,
} from './binding.ts';

/** Default of `ObjectsTrigger.pollIntervalMs`. */
export const DEFAULT_OBJECTS_POLL_MS = 1_000;
const DEFAULT_MAX_ATTEMPTS = 5;

/** The group that keeps the failed events of an objects function. */
export const FAILED_EVENTS_GROUP = 'operators';

/** The channel that keeps the object events a function failed on. */
export function failedEventsChannel(functionName: string): string {
  return `${functionName}-failed`;
}

type Listing = Map<string, ObjectInfo>;

/**
 * Lists the bucket once (objects present then raise no event), then polls
 * it in the background. Events of one poll are handled one after the
 * other in name order. A handler that throws is retried with the
 * function's backoff up to `maxAttempts` (default 5), each failure
 * counted; after the last one the event, the error and the attempt
 * count are published on the function's failed-events channel
 * (`{function}-failed`, kept for its worker group `operators`) and logged
 * at error level, so nothing is lost:
 * `switchyard consume indexer-failed --group operators` reads them.
 */
export async function bindObjects(
  env: BindingEnv,
  trigger: ObjectsTrigger,
): Promise<Binding> {
  const bucket = env.client.objects(trigger.bucket);
  const failed = env.client.channel<FailedObjectEvent>(
    failedEventsChannel(env.fn.name),
    { groups: [FAILED_EVENTS_GROUP] },
  );
  // Create the channel and its group now, so a failure is kept even when
  // nobody has consumed the channel yet.
  await failed.consumer({ group: FAILED_EVENTS_GROUP }).then((c) => c.close());
  const prefix = trigger.prefix ?? '';
  const kinds = new Set(trigger.events ?? ['put', 'delete']);
  const intervalMs = trigger.pollIntervalMs ?? DEFAULT_OBJECTS_POLL_MS;
  const stopping = new AbortController();
  const aborting = new AbortController();
  let handling = false;

  const list = async (): Promise<Listing> => {
    const listing: Listing = new Map();
    for await (const info of bucket.list(prefix)) listing.set(info.name, info);
    return listing;
  };

  let previous = await list();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await sleep(intervalMs, stopping.signal);
      if (stopping.signal.aborted) break;
      let current: Listing;
      try {
        current = await list();
      } catch (error) {
        env.logger.warn('could not list the bucket', errorFields(error));
        continue;
      }
      const events = changes(trigger.bucket, previous, current);
      previous = current;
      handling = true;
      for (const event of events) {
        if (stopping.signal.aborted) break;
        if (kinds.has(event.type)) {
          await handle(env, event, failed, {
            signal: aborting.signal,
            stop: stopping.signal,
          });
        }
      }
      handling = false;
    }
  })();

  return {
    sync: () => {},
    busy: () => handling,
    async stop(timeoutMs) {
      stopping.abort();
      if (!(await settledWithin(loop, timeoutMs))) aborting.abort();
    },
  };
}

/** The events that turn `before` into `after`, in name order. */
function changes(
  bucket: string,
  before: Listing,
  after: Listing,
): ObjectEvent[] {
  const events: ObjectEvent[] = [];
  for (const [name, info] of after) {
    if (before.get(name)?.etag !== info.etag) {
      events.push({ type: 'put', bucket, name, info });
    }
  }
  for (const name of before.keys()) {
    if (!after.has(name)) events.push({ type: 'delete', bucket, name });
  }

  return events.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Runs the handler on `event` with retries. `signal` is the handler's;
 * `stop` ends the retries (a stopping pipeline starts no new attempt).
 */
async function handle(
  env: BindingEnv,
  event: ObjectEvent,
  failed: Channel<FailedObjectEvent>,
  { signal, stop }: { signal: AbortSignal; stop: AbortSignal },
): Promise<void> {
  const { fn, stats } = env;
  const maxAttempts = fn.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const backoff = resolveBackoff(fn.backoff);
  stats.delivered++;
  stats.inFlight++;

  try {
    for (let attempt = 1; attempt === 1 || !stop.aborted; attempt++) {
      stats.runs++;
      try {
        await fn.handler(event, functionContext(env, { attempt, signal }));
        stats.succeeded++;
        return;
      } catch (error) {
        stats.failed++;
        const fields = { object: event.name, attempt, ...errorFields(error) };
        if (attempt >= maxAttempts) {
          await keepFailed(env, failed, event, error, attempt, stop);
          return;
        }
        stats.retried++;
        env.logger.debug('object event handler failed, retrying', fields);
        await sleep(backoffDelay(attempt, backoff), stop);
      }
    }
  } finally {
    stats.inFlight--;
  }
}

/** An object event a function failed on, as its failed-events channel keeps it. */
export interface FailedObjectEvent {
  event: ObjectEvent;
  /** The last error, as `Name: message`. */
  reason: string;
  attempts: number;
}

/**
 * Publishes a failed event on the failed-events channel, retrying while
 * the transport refuses, so the event is never dropped.
 */
async function keepFailed(
  env: BindingEnv,
  failed: Channel<FailedObjectEvent>,
  event: ObjectEvent,
  error: unknown,
  attempts: number,
  stop: AbortSignal,
): Promise<void> {
  const reason = describeError(error);
  for (let tries = 1; !stop.aborted; tries++) {
    try {
      await failed.publish({ event, reason, attempts });
      env.stats.deadLettered++;
      env.logger.error('object event failed on every attempt; kept', {
        object: event.name,
        channel: failed.name,
        attempts,
        reason,
      });
      return;
    } catch (publishError) {
      env.logger.warn('could not keep a failed object event, retrying', {
        object: event.name,
        ...errorFields(publishError),
      });
      await sleep(Math.min(30_000, 100 * 2 ** tries), stop);
    }
  }
  env.logger.error('stopped before a failed object event could be kept', {
    object: event.name,
    attempts,
    reason,
  });
}
