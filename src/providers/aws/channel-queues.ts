/**
 * What a channel holds in SQS, read back from the queues themselves: its
 * consumer queues (worker groups and broadcast consumers) and its
 * dead-letter queues, found by name (`names.ts`), with the mode, consumer
 * name and last activity their tags give. A queue without tags, such as
 * one the CDK app created, is a worker group named after its queue.
 */

import {
  ListSubscriptionsByTopicCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import type { AwsContext } from './context.ts';
import type { DeadLetterQueue } from './dead-letters.ts';
import { awsError, isMissing } from './errors.ts';
import {
  broadcastDeadLetterQueueName,
  CONSUMER_TAG,
  consumerQueuePrefix,
  FIFO_SUFFIX,
  LAST_SEEN_TAG,
  lastPart,
  MODE_TAG,
  queueRole,
} from './names.ts';
import type { Queues } from './queues.ts';
import type { ChannelTopic } from './topics.ts';

/** One consumer queue of a channel. */
export interface ConsumerQueue {
  url: string;
  /** The queue's name. */
  queue: string;
  /** The consumer's name: the group, or the broadcast consumer's. */
  name: string;
  mode: 'group' | 'broadcast';
  /** When a broadcast consumer last fetched, in ms since the epoch. */
  lastSeen?: number;
}

/** The queues of one channel. */
export interface ChannelQueues {
  consumers: ConsumerQueue[];
  deadLetters: DeadLetterQueue[];
}

/** Reads the queues of `topic`'s channel. */
export async function channelQueues(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
): Promise<ChannelQueues> {
  const { prefix } = ctx.options;
  const start = consumerQueuePrefix(prefix, topic.channel);
  const consumers: ConsumerQueue[] = [];
  const deadLetters: DeadLetterQueue[] = [];

  for (const url of await queues.list(start)) {
    const queue = lastPart(url);
    if (queue.endsWith(FIFO_SUFFIX) !== topic.ordered) continue;
    const role = queueRole(queue, start);
    if (role === undefined) continue;
    if (role.deadLetters) {
      deadLetters.push(
        await groupDeadLetters(queues, topic, url, role.consumer),
      );
      continue;
    }
    const tags = await queueTags(ctx, url);
    if (tags === undefined) continue;
    const lastSeen = Number(tags[LAST_SEEN_TAG]);
    consumers.push({
      url,
      queue,
      name: tags[CONSUMER_TAG] ?? role.consumer,
      mode: tags[MODE_TAG] === 'broadcast' ? 'broadcast' : 'group',
      ...(Number.isFinite(lastSeen) && { lastSeen }),
    });
  }

  const broadcast = await broadcastDeadLetters(ctx, queues, topic, consumers);
  if (broadcast !== undefined) deadLetters.push(broadcast);
  return { consumers, deadLetters };
}

/**
 * Whether broadcast consumer queue `queue` belongs to an instance gone
 * for longer than `broadcastInactiveMs`.
 */
export function isStale(ctx: AwsContext, queue: ConsumerQueue): boolean {
  if (queue.mode !== 'broadcast' || queue.lastSeen === undefined) return false;
  return Date.now() - queue.lastSeen > ctx.options.broadcastInactiveMs;
}

/** Removes the subscriptions of `topic` that deliver to `queueArns`. */
export async function unsubscribe(
  ctx: AwsContext,
  topic: ChannelTopic,
  queueArns: ReadonlySet<string> | 'all',
): Promise<void> {
  let token: string | undefined;
  const arns: string[] = [];
  do {
    let page: Awaited<ReturnType<typeof listSubscriptions>>;
    try {
      page = await listSubscriptions(ctx, topic.arn, token);
    } catch (error) {
      if (isMissing(error)) return;
      throw awsError(error, `list the subscriptions of '${topic.channel}'`);
    }
    for (const subscription of page.Subscriptions ?? []) {
      const { SubscriptionArn, Endpoint } = subscription;
      if (
        SubscriptionArn === undefined ||
        !SubscriptionArn.startsWith('arn:')
      ) {
        continue;
      }
      if (queueArns === 'all' || queueArns.has(Endpoint ?? '')) {
        arns.push(SubscriptionArn);
      }
    }
    token = page.NextToken;
  } while (token !== undefined);

  for (const arn of arns) await removeSubscription(ctx, arn);
}

/** Removes one subscription; one already gone is no error. */
export async function removeSubscription(
  ctx: AwsContext,
  subscriptionArn: string,
): Promise<void> {
  try {
    await ctx.sns.send(
      new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }),
    );
  } catch (error) {
    if (!isMissing(error)) throw awsError(error, 'remove a subscription');
  }
}

function listSubscriptions(
  ctx: AwsContext,
  topicArn: string,
  token: string | undefined,
) {
  return ctx.sns.send(
    new ListSubscriptionsByTopicCommand({
      TopicArn: topicArn,
      NextToken: token,
    }),
  );
}

async function queueTags(
  ctx: AwsContext,
  url: string,
): Promise<Record<string, string> | undefined> {
  try {
    const answer = await ctx.sqs.send(
      new ListQueueTagsCommand({ QueueUrl: url }),
    );
    return answer.Tags ?? {};
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw awsError(error, `read the tags of queue ${lastPart(url)}`);
  }
}

/**
 * The dead-letter queue of `group`, with the receive count of the group
 * queue's redrive policy, for the dead letters SQS moved itself.
 */
async function groupDeadLetters(
  queues: Queues,
  topic: ChannelTopic,
  url: string,
  group: string,
): Promise<DeadLetterQueue> {
  const source = lastPart(url).replace(/-dlq(\.fifo)?$/, '$1');
  const sourceUrl = await queues.find(source);
  const attributes =
    sourceUrl === undefined
      ? undefined
      : await queues.attributes(sourceUrl, ['RedrivePolicy']);
  const count = redriveCount(attributes?.RedrivePolicy);

  return {
    url,
    ordered: topic.ordered,
    group,
    source: async () => queues.find(source),
    ...(count !== undefined && { maxReceiveCount: count }),
  };
}

function redriveCount(policy: string | undefined): number | undefined {
  if (policy === undefined) return undefined;
  try {
    const count = Number(
      (JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount,
    );
    return Number.isFinite(count) ? count : undefined;
  } catch {
    return undefined;
  }
}

async function broadcastDeadLetters(
  ctx: AwsContext,
  queues: Queues,
  topic: ChannelTopic,
  consumers: readonly ConsumerQueue[],
): Promise<DeadLetterQueue | undefined> {
  const name = broadcastDeadLetterQueueName(
    ctx.options.prefix,
    topic.channel,
    topic.ordered,
  );
  const url = await queues.find(name);
  if (url === undefined) return undefined;

  return {
    url,
    ordered: topic.ordered,
    source: async (consumer) =>
      consumers.find((c) => c.mode === 'broadcast' && c.name === consumer)?.url,
  };
}
