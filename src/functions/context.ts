/**
 * The client a function or producer sees: the runner's client, with the
 * pipeline's declarations applied to the channels and buckets it opens
 * and its publishes counted.
 */
import type { Channel, ChannelOptions } from '../core/channel.ts';
import type { KvOptions } from '../core/kv.ts';
import type { Switchyard } from '../core/switchyard.ts';
import type { Pipeline } from './define-pipeline.ts';

/** Called with the number of messages a publish stored. */
export type PublishCounter = (count: number) => void;

/**
 * The options a handle on declared channel `name` gets by default: the
 * declaration's codec, schema and ordering, and every worker group of
 * the pipeline's functions on it, so that each group exists before the
 * first publish.
 */
export function declaredChannelOptions<T>(
  pipeline: Pipeline,
  name: string,
): ChannelOptions<T> {
  const declaration = pipeline.channels[name];
  if (declaration === undefined) return {};
  const groups = groupsOf(pipeline, name);

  return {
    ...(declaration.codec !== undefined && { codec: declaration.codec }),
    ...(declaration.schema !== undefined && { schema: declaration.schema }),
    ...(declaration.ordered !== undefined && { ordered: declaration.ordered }),
    ...(groups.length > 0 && { groups }),
  } as ChannelOptions<T>;
}

/** The worker groups of the pipeline's functions on `channel`. */
export function groupsOf(pipeline: Pipeline, channel: string): string[] {
  const groups: string[] = [];
  for (const { trigger } of pipeline.functions) {
    if (trigger.type === 'channel' && trigger.channel === channel) {
      groups.push(trigger.group);
    }
  }
  return groups;
}

/**
 * Wraps `client` for code that runs in the pipeline. `channel()` and
 * `kv()` of a declared name start from the declaration (options given
 * override it field by field); publishes on any channel are reported to
 * `count`. `close()` resolves without closing: the runner's caller owns
 * the client.
 */
export function countingClient(
  client: Switchyard,
  pipeline: Pipeline,
  count: PublishCounter,
): Switchyard {
  return {
    get instanceId() {
      return client.instanceId;
    },
    capabilities: (part) => client.capabilities(part),
    providerName: (part) => client.providerName(part),
    channel<T>(name: string, options?: ChannelOptions<T>) {
      const declared = declaredChannelOptions<T>(pipeline, name);
      const channel = client.channel<T>(name, { ...declared, ...options });
      return countingChannel(channel, count);
    },
    kv<T>(bucket: string, options?: KvOptions<T>) {
      const declaration = pipeline.kv[bucket] ?? {};
      return client.kv<T>(bucket, {
        ...(declaration as KvOptions<T>),
        ...options,
      });
    },
    objects: (bucket, options) => client.objects(bucket, options),
    serve: (subject, handler, options) =>
      client.serve(subject, handler, options),
    request: (subject, data, options) => client.request(subject, data, options),
    gather: (subject, data, options) => client.gather(subject, data, options),
    get admin() {
      return client.admin;
    },
    get outbox() {
      return client.outbox;
    },
    switchTo: (target, options) => client.switchTo(target, options),
    close: async () => {},
  };
}

function countingChannel<T>(
  channel: Channel<T>,
  count: PublishCounter,
): Channel<T> {
  return {
    name: channel.name,
    async publish(data, options) {
      const receipt = await channel.publish(data, options);
      count(1);
      return receipt;
    },
    async publishBatch(entries) {
      const results = await channel.publishBatch(entries);
      count(results.filter((r) => r.ok).length);
      return results;
    },
    subscribe: (handler, options) => channel.subscribe(handler, options),
    consumer: (options) => channel.consumer(options),
  };
}
