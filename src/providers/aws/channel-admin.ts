/**
 * Administration of a channel on SNS and SQS: its consumers, counters,
 * purge and deletion. Counters are the queues' approximate numbers, which
 * SQS updates within about a minute on AWS.
 *
 * A purge empties every consumer queue of the channel with `PurgeQueue`
 * and counts what the fullest one held; SQS allows one purge a minute per
 * queue. Purging only what every group acknowledged is not possible:
 * SQS forgets a message once a queue deletes it, and keeps no position up
 * to which a group has acknowledged.
 */
import { DeleteTopicCommand } from '@aws-sdk/client-sns';
import { CapabilityError } from '../../core/errors.ts';
import type { ChannelStats, ConsumerInfo } from '../../core/provider.ts';
import { channelQueues, isStale, unsubscribe } from './channel-queues.ts';
import type { AwsContext } from './context.ts';
import { purgeQueue, purgeQueues } from './dead-letters.ts';
import { awsError, isMissing, notFound, PROVIDER } from './errors.ts';
import { broadcastDeadLetterQueueName, consumerQueuePrefix } from './names.ts';
import type { Queues } from './queues.ts';
import type { ChannelTopic } from './topics.ts';

/** Why purging acknowledged messages only is not offered. */
export const NO_ACK_FLOOR =
  'SQS keeps no acknowledgement floor: a queue forgets a message once it is deleted, so there is no position up to which every group has acknowledged';

/** The live consumers of the channel of `topic`. */
export async function listConsumers(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<ConsumerInfo[]> {
  const { consumers } = await channelQueues(ctx, queues, topic);
  const infos: ConsumerInfo[] = [];
  for (const queue of consumers) {
    if (isStale(ctx, queue)) continue;
    const counts = await queues.counts(queue.url);
    if (counts === undefined) continue;
    infos.push({
      name: queue.name,
      mode: queue.mode,
      pending: counts.visible + counts.delayed,
      inFlight: counts.inFlight,
      ...(queue.lastSeen !== undefined && { lastActiveAt: queue.lastSeen }),
    });
  }

  return infos.sort((a, b) => a.name.localeCompare(b.name));
}

/** The counters of the channel of `topic`. */
export async function readStats(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<ChannelStats> {
  const { consumers, deadLetters } = await channelQueues(ctx, queues, topic);
  const stats: ChannelStats = {
    depth: 0,
    inFlight: 0,
    deadLettered: 0,
    consumers: {},
  };
  for (const queue of consumers) {
    if (isStale(ctx, queue)) continue;
    const counts = await queues.counts(queue.url);
    if (counts === undefined) continue;
    const lag = counts.visible + counts.inFlight + counts.delayed;
    stats.consumers[queue.name] = { lag, inFlight: counts.inFlight };
    stats.depth = Math.max(stats.depth, lag);
    stats.inFlight += counts.inFlight;
  }
  for (const queue of deadLetters) {
    const counts = await queues.counts(queue.url);
    if (counts === undefined) continue;
    stats.deadLettered += counts.visible + counts.inFlight + counts.delayed;
  }

  return stats;
}

/** Empties the consumer queues; returns what the fullest one held. */
export async function purgeChannel(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
  options: { acknowledged?: boolean; upToSequence?: number } = {},
): Promise<number> {
  if (options.acknowledged === true || options.upToSequence !== undefined) {
    throw new CapabilityError(
      `cannot purge only acknowledged messages of channel '${topic.channel}': ${NO_ACK_FLOOR}`,
      {
        feature: 'purgeAcknowledged',
        details: { provider: PROVIDER, channel: topic.channel },
      },
    );
  }
  const { consumers } = await channelQueues(ctx, queues, topic);
  let removed = 0;
  for (const queue of consumers) {
    const counts = await queues.counts(queue.url);
    if (counts === undefined) continue;
    removed = Math.max(
      removed,
      counts.visible + counts.inFlight + counts.delayed,
    );
    await purgeQueue(ctx, queue.url);
  }

  return removed;
}

/** Empties the dead-letter queues; returns how many they held. */
export async function purgeChannelDeadLetters(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<number> {
  const { deadLetters } = await channelQueues(ctx, queues, topic);
  return purgeQueues(
    ctx,
    queues,
    deadLetters.map((queue) => queue.url),
  );
}

/**
 * Removes consumer `name`: its subscription, its queue and, for a group,
 * its dead-letter queue. NotFoundError when the channel has no such
 * consumer.
 */
export async function removeConsumer(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
  name: string,
): Promise<void> {
  const { consumers, deadLetters } = await channelQueues(ctx, queues, topic);
  const queue = consumers.find((c) => c.name === name);
  if (queue === undefined) {
    throw notFound('consumer', name, { channel: topic.channel, group: name });
  }

  await unsubscribe(
    ctx,
    topic,
    new Set([`${topic.queueArnBase}${queue.queue}`]),
  );
  await queues.delete(queue.url);
  if (queue.mode === 'group') {
    const own = deadLetters.find((d) => d.group === name);
    if (own !== undefined) await queues.delete(own.url);
  }
}

/** Deletes the channel's subscriptions, queues and topic. */
export async function removeChannel(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<void> {
  const { prefix } = ctx.options;
  await unsubscribe(ctx, topic, 'all');
  const start = consumerQueuePrefix(prefix, topic.channel);
  for (const url of await queues.list(start)) await queues.delete(url);
  const broadcast = await queues.find(
    broadcastDeadLetterQueueName(prefix, topic.channel, topic.ordered),
  );
  if (broadcast !== undefined) await queues.delete(broadcast);

  try {
    await ctx.sns.send(new DeleteTopicCommand({ TopicArn: topic.arn }));
  } catch (error) {
    if (isMissing(error)) return;
    throw awsError(error, `delete the topic of channel '${topic.channel}'`, {
      details: { channel: topic.channel },
    });
  }
}
