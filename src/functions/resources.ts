/**
 * `describePipeline`: the resources a pipeline needs, as plain data with
 * the defaults applied, for infra code that declares them (topics,
 * queues per group, dead-letter queues, tables, buckets, schedules) and
 * for tools that show them.
 */
import type { Guarantee } from '../core/channel.ts';
import { DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS } from '../delivery/policy.ts';
import { failedEventsChannel } from './bindings/objects.ts';
import type { Pipeline } from './define-pipeline.ts';

/** A worker group of a channel and the function it feeds. */
export interface GroupResource {
  group: string;
  function: string;
  guarantee: Guarantee;
  concurrency: number;
  /** Attempts before a message goes to the dead letters. */
  maxAttempts: number;
  leaseMs: number;
  /** The function's run-time limit, when it declares one. */
  timeoutMs?: number;
}

/** A channel with its consumers. */
export interface ChannelResource {
  name: string;
  ordered: boolean;
  /** Whether the channel validates its data with a schema. */
  validated: boolean;
  groups: GroupResource[];
  /** Functions that receive every message on every instance. */
  broadcast: string[];
  /** Whether some consumer may dead-letter, so a dead-letter queue is due. */
  deadLetters: boolean;
}

/** Everything a pipeline needs. */
export interface PipelineResources {
  pipeline: string;
  channels: ChannelResource[];
  kv: { name: string; ttlMs?: number }[];
  objects: {
    name: string;
    expireAfterMs?: number;
    /** Functions triggered by its objects. */
    triggers: {
      function: string;
      prefix: string;
      events: string[];
      /** Channel that keeps the events the function failed on. */
      failedEvents: string;
    }[];
  }[];
  schedules: { function: string; everyMs: number }[];
  subjects: { subject: string; function: string }[];
  /**
   * Where clients keep bodies too large for the channels, with the days
   * after which the objects under the prefix expire. Its bucket is among
   * `objects`.
   */
  claimCheck?: { bucket: string; prefix: string; expireAfterDays: number };
}

/**
 * Lists the resources of `pipeline` in declaration order, with the
 * runner's defaults applied (at-least-once, concurrency 1, 5 attempts,
 * a 30000 ms lease).
 *
 * @example
 * ```ts
 * for (const channel of describePipeline(pipeline).channels) {
 *   // one topic per channel, one queue and dead-letter queue per group
 * }
 * ```
 */
export function describePipeline(pipeline: Pipeline): PipelineResources {
  const channels = Object.entries(pipeline.channels).map(
    ([name, declaration]): ChannelResource => ({
      name,
      ordered: declaration.ordered ?? false,
      validated: declaration.schema !== undefined,
      groups: [],
      broadcast: [],
      deadLetters: false,
    }),
  );
  const objects = Object.entries(pipeline.objects).map(([name, d]) => ({
    name,
    ...(d.expireAfterMs !== undefined && { expireAfterMs: d.expireAfterMs }),
    triggers: [] as PipelineResources['objects'][number]['triggers'],
  }));
  const resources: PipelineResources = {
    pipeline: pipeline.name,
    channels,
    kv: Object.entries(pipeline.kv).map(([name, d]) => ({
      name,
      ...(d.ttlMs !== undefined && { ttlMs: d.ttlMs }),
    })),
    objects,
    schedules: [],
    subjects: [],
  };
  const { claimCheck } = pipeline;
  if (claimCheck !== undefined) {
    resources.claimCheck = { ...claimCheck };
    if (!objects.some((o) => o.name === claimCheck.bucket)) {
      objects.push({ name: claimCheck.bucket, triggers: [] });
    }
  }

  for (const fn of pipeline.functions) {
    const { trigger } = fn;
    if (trigger.type === 'channel' || trigger.type === 'broadcast') {
      const channel = channels.find((c) => c.name === trigger.channel)!;
      const guarantee = fn.guarantee ?? 'at-least-once';
      channel.deadLetters ||= guarantee !== 'at-most-once';
      if (trigger.type === 'broadcast') {
        channel.broadcast.push(fn.name);
        continue;
      }
      channel.groups.push({
        group: trigger.group,
        function: fn.name,
        guarantee,
        concurrency: fn.concurrency ?? 1,
        maxAttempts: fn.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        leaseMs: fn.leaseMs ?? DEFAULT_LEASE_MS,
        ...(fn.timeoutMs !== undefined && { timeoutMs: fn.timeoutMs }),
      });
    } else if (trigger.type === 'objects') {
      objects
        .find((o) => o.name === trigger.bucket)!
        .triggers.push({
          function: fn.name,
          prefix: trigger.prefix ?? '',
          events: [...(trigger.events ?? ['put', 'delete'])],
          failedEvents: failedEventsChannel(fn.name),
        });
    } else if (trigger.type === 'schedule') {
      resources.schedules.push({ function: fn.name, everyMs: trigger.everyMs });
    } else {
      resources.subjects.push({ subject: trigger.subject, function: fn.name });
    }
  }

  return resources;
}
