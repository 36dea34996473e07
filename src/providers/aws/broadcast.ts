/**
 * Broadcast consumers: one queue per live instance, subscribed to the
 * channel's topic when the consumer opens, and unsubscribed and deleted
 * when it closes. While open, the consumer stamps its queue's
 * `switchyard-last-seen` tag with the time, every third of
 * `broadcastInactiveMs`. An instance that went away without closing
 * leaves its queue behind; the next broadcast consumer of the channel to
 * open, on any instance, removes every broadcast queue whose stamp is
 * older than `broadcastInactiveMs`, and admin listings leave them out.
 */
import { TagQueueCommand } from '@aws-sdk/client-sqs';
import type { ConsumerSpec } from '../../core/provider.ts';
import {
  channelQueues,
  isStale,
  removeSubscription,
  unsubscribe,
} from './channel-queues.ts';
import { SqsConsumer } from './consumer.ts';
import type { AwsContext } from './context.ts';
import {
  broadcastDeadLetterQueueName,
  broadcastQueueName,
  CONSUMER_TAG,
  LAST_SEEN_TAG,
  MODE_TAG,
} from './names.ts';
import type { Queues } from './queues.ts';
import type { ChannelTopic } from './topics.ts';

/** Shortest pause between two stamps of a broadcast queue, in ms. */
const MIN_STAMP_EVERY_MS = 1000;

/** Opens the broadcast consumer of `spec` on `topic`. */
export async function openBroadcast(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
  spec: ConsumerSpec,
): Promise<SqsConsumer> {
  const { prefix, broadcastInactiveMs } = ctx.options;
  const deadLetters = broadcastDeadLetterQueueName(
    prefix,
    topic.channel,
    topic.ordered,
  );
  const name = broadcastQueueName(
    prefix,
    topic.channel,
    spec.name,
    topic.ordered,
  );
  await removeStale(ctx, queues, topic);

  const deadLetterUrl = await queues.ensureDeadLetters(topic, deadLetters);
  const { url, subscriptionArn } = await queues.ensureConsumer(topic, {
    name,
    deadLetters,
    maxAttempts: spec.maxAttempts,
    tags: {
      [CONSUMER_TAG]: spec.name,
      [MODE_TAG]: 'broadcast',
      [LAST_SEEN_TAG]: String(Date.now()),
    },
  });
  const every = Math.max(MIN_STAMP_EVERY_MS, broadcastInactiveMs / 3);
  const timer = setInterval(() => {
    stamp(ctx, url).catch(() => {});
  }, every);
  timer.unref();

  return new SqsConsumer(ctx, topic, spec, { url, deadLetterUrl }, async () => {
    clearInterval(timer);
    await removeSubscription(ctx, subscriptionArn);
    await queues.delete(url);
  });
}

/** Removes the broadcast queues of instances gone for too long. */
async function removeStale(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<void> {
  try {
    const { consumers } = await channelQueues(ctx, queues, topic);
    const stale = consumers.filter((queue) => isStale(ctx, queue));
    if (stale.length === 0) return;
    const arns = new Set(stale.map((q) => `${topic.queueArnBase}${q.queue}`));
    await unsubscribe(ctx, topic, arns);
    for (const queue of stale) await queues.delete(queue.url);
    ctx.logger.info('removed broadcast queues of departed instances', {
      channel: topic.channel,
      queues: stale.map((queue) => queue.queue),
    });
  } catch (error) {
    // Clean-up is a courtesy: the next broadcast consumer tries again.
    ctx.logger.warn('could not remove stale broadcast queues', {
      channel: topic.channel,
      error: String(error),
    });
  }
}

async function stamp(ctx: AwsContext, url: string): Promise<void> {
  await ctx.sqs.send(
    new TagQueueCommand({
      QueueUrl: url,
      Tags: { [LAST_SEEN_TAG]: String(Date.now()) },
    }),
  );
}
