/**
 * Builders of triggers: plain data, checked when the function that uses
 * them is defined.
 */
import type {
  BroadcastTrigger,
  ChannelTrigger,
  ObjectsTrigger,
  RequestTrigger,
  ScheduleTrigger,
} from './types.ts';

/**
 * Messages of `channel`, each handled by one member of worker group
 * `group`, which is durable: it resumes where it left off after a
 * restart, and the runner creates it with the channel so it receives
 * every message published once the pipeline has run once.
 *
 * @example
 * onChannel('kv-events', { group: 'indexer' })
 */
export function onChannel(
  channel: string,
  options: { group: string },
): ChannelTrigger {
  return { type: 'channel', channel, group: options.group };
}

/**
 * Every message of `channel` published while this instance runs, on
 * every live instance.
 *
 * @example
 * onBroadcast('config-changes')
 */
export function onBroadcast(channel: string): BroadcastTrigger {
  return { type: 'broadcast', channel };
}

/**
 * A timer: the handler runs every `everyMs`, first `everyMs` after the
 * pipeline starts. Runs of one function never overlap: a run that takes
 * longer than the period delays the next one, and missed runs are not
 * made up.
 *
 * @example
 * every(30_000)
 */
export function every(everyMs: number): ScheduleTrigger {
  return { type: 'schedule', everyMs };
}

/**
 * Writes and deletes of objects in `bucket` made after the pipeline
 * started, optionally only under `prefix` and of some kinds. The local
 * runner finds them by listing the bucket every `pollIntervalMs` (default
 * 1000) and comparing etags, so writes from other processes count too;
 * an object written twice between two looks is one event.
 *
 * @example
 * onObjects('router-snapshots', { prefix: 'snapshots/', events: ['put'] })
 */
export function onObjects(
  bucket: string,
  options: Omit<ObjectsTrigger, 'type' | 'bucket'> = {},
): ObjectsTrigger {
  return { type: 'objects', bucket, ...options };
}

/**
 * Requests to `subject`: the handler's return value is the reply. Every
 * instance serves it, so a `gather` collects one reply per instance.
 *
 * @example
 * onRequest('router.stats')
 */
export function onRequest(subject: string): RequestTrigger {
  return { type: 'request', subject };
}
