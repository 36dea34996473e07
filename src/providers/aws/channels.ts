/**
 * Channels of the aws provider on SNS and SQS:
 *
 * - a channel is the SNS topic `{prefix}{channel}` (FIFO, `.fifo`, when
 *   ordered); a publisher-only channel is the topic alone;
 * - a worker group is the SQS queue `{prefix}{channel}--{group}`,
 *   subscribed to the topic with raw message delivery, with the
 *   dead-letter queue `{prefix}{channel}--{group}-dlq` as the target of
 *   its redrive policy; groups declared when the channel is ensured get
 *   their queue then, so they keep what is published before their first
 *   consumer opens;
 * - a broadcast consumer is a queue of its own, removed when it closes
 *   (`broadcast.ts`);
 * - an ordered channel's queues are FIFO: SQS hands out the messages of
 *   one ordering key (message group) one at a time and in order, across
 *   every member of a group;
 * - the message is the CloudEvents JSON body (`wire.ts`);
 * - a dead letter handed over outside a consumer (`deadLetter`, for the
 *   records of a Lambda event source mapping) goes to its group's
 *   dead-letter queue, as a consumer's would (`dead-letters.ts`).
 *
 * Standard topics drop no duplicate; FIFO topics drop a re-publish of a
 * message id within five minutes.
 */

import { NotFoundError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type {
  ChannelSpec,
  ChannelStats,
  ChannelTransport,
  ConsumerInfo,
  ConsumerSpec,
  DeadLetter,
  DeadLetterInput,
  TransportConsumer,
  TransportPublishOutcome,
} from '../../core/provider.ts';
import { openBroadcast } from './broadcast.ts';
import {
  listConsumers,
  purgeChannel,
  purgeChannelDeadLetters,
  readStats,
  removeChannel,
  removeConsumer,
} from './channel-admin.ts';
import { channelQueues } from './channel-queues.ts';
import { SqsConsumer } from './consumer.ts';
import type { AwsContext } from './context.ts';
import {
  readDeadLetters,
  releaseDeadLetters,
  replay,
  storeDeadLetter,
} from './dead-letters.ts';
import { PROVIDER } from './errors.ts';
import {
  CONSUMER_TAG,
  deadLetterQueueName,
  groupQueueName,
  MODE_TAG,
} from './names.ts';
import { publishToTopic } from './publisher.ts';
import { Queues } from './queues.ts';
import { type ChannelTopic, Topics } from './topics.ts';

/** Receives of a group declared by `ensure`, until a consumer sets them. */
const ENSURE_MAX_ATTEMPTS = 5;

/** How the topics of request/reply gathers start, after the prefix. */
const GATHER_TOPIC_START = 'sy-gather-';

/** Channel names as the core allows them. */
const CHANNEL = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,39}$/;

/**
 * The channels of one aws provider instance.
 *
 * @example
 * ```ts
 * const channels = createAwsChannels(context);
 * await channels.ensure({ name: 'orders', ordered: false, groups: ['billing'] });
 * ```
 */
export function createAwsChannels(ctx: AwsContext): ChannelTransport {
  return new AwsChannels(ctx);
}

class AwsChannels implements ChannelTransport {
  readonly #ctx: AwsContext;
  readonly #topics: Topics;
  readonly #queues: Queues;

  constructor(ctx: AwsContext) {
    this.#ctx = ctx;
    this.#topics = new Topics(ctx);
    this.#queues = new Queues(ctx);
  }

  async ensure(spec: ChannelSpec): Promise<void> {
    this.#ctx.lifecycle.check('ensure a channel');
    const topic = await this.#topics.ensure(spec.name, spec.ordered);
    for (const group of spec.groups) {
      await this.#ensureGroup(topic, group, ENSURE_MAX_ATTEMPTS);
    }
  }

  async exists(channel: string): Promise<boolean> {
    this.#ctx.lifecycle.check('look up a channel');
    this.#topics.forget(channel);
    return (await this.#topics.find(channel)) !== undefined;
  }

  async list(): Promise<string[]> {
    this.#ctx.lifecycle.check('list channels');
    const { prefix } = this.#ctx.options;
    const channels = new Set<string>();
    for (const arn of await this.#topics.list(prefix)) {
      const name = arn
        .slice(arn.lastIndexOf(':') + 1 + prefix.length)
        .replace(/\.fifo$/, '');
      // Request/reply's gather topics share the prefix; they are no channel.
      if (name.startsWith(GATHER_TOPIC_START)) continue;
      if (CHANNEL.test(name)) channels.add(name);
    }
    return [...channels].sort();
  }

  async delete(channel: string): Promise<void> {
    this.#ctx.lifecycle.check('delete a channel');
    this.#topics.forget(channel);
    const topic = await this.#topics.find(channel);
    this.#topics.forget(channel);
    if (topic === undefined) return;
    await removeChannel(this.#ctx, this.#queues, topic);
  }

  async publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> {
    this.#ctx.lifecycle.check('publish');
    const topic = await this.#topics.require(channel);
    const outcomes = await publishToTopic(this.#ctx, topic, messages);

    // The topic was deleted since it was found: look again once.
    if (outcomes.some((o) => !o.ok && o.error instanceof NotFoundError)) {
      this.#topics.forget(channel);
      const again = await this.#topics.find(channel);
      if (again !== undefined && again.arn !== topic.arn) {
        return publishToTopic(this.#ctx, again, messages);
      }
    }
    return outcomes;
  }

  async consume(spec: ConsumerSpec): Promise<TransportConsumer> {
    this.#ctx.lifecycle.check('open a consumer');
    const topic = await this.#topics.require(spec.channel);

    const consumer =
      spec.mode === 'broadcast'
        ? await openBroadcast(this.#ctx, this.#queues, topic, spec)
        : await this.#openGroup(topic, spec);
    this.#ctx.lifecycle.track(consumer);
    return consumer;
  }

  async purge(
    channel: string,
    options?: { acknowledged?: boolean; upToSequence?: number },
  ): Promise<number> {
    this.#ctx.lifecycle.check('purge a channel');
    const topic = await this.#topics.require(channel);
    return purgeChannel(this.#ctx, this.#queues, topic, options);
  }

  async consumers(channel: string): Promise<ConsumerInfo[]> {
    this.#ctx.lifecycle.check('list consumers');
    const topic = await this.#topics.require(channel);
    return listConsumers(this.#ctx, this.#queues, topic);
  }

  async deleteConsumer(channel: string, name: string): Promise<void> {
    this.#ctx.lifecycle.check('delete a consumer');
    const topic = await this.#topics.require(channel);
    await removeConsumer(this.#ctx, this.#queues, topic, name);
  }

  async stats(channel: string): Promise<ChannelStats> {
    this.#ctx.lifecycle.check('read channel stats');
    const topic = await this.#topics.require(channel);
    return readStats(this.#ctx, this.#queues, topic);
  }

  async deadLetters(
    channel: string,
    options: { limit?: number } = {},
  ): Promise<DeadLetter[]> {
    this.#ctx.lifecycle.check('read dead letters');
    const topic = await this.#topics.require(channel);
    const letters = await this.#readDeadLetters(topic);
    await releaseDeadLetters(this.#ctx, letters);

    const limit = options.limit ?? letters.length;
    return letters.slice(0, limit).map((letter) => ({
      message: letter.message,
      group: letter.group,
      reason: letter.reason,
      attempts: letter.attempts,
      deadLetteredAt: letter.deadLetteredAt,
    }));
  }

  async replayDeadLetters(
    channel: string,
    options: { ids?: readonly string[] } = {},
  ): Promise<number> {
    this.#ctx.lifecycle.check('replay dead letters');
    const topic = await this.#topics.require(channel);
    const letters = await this.#readDeadLetters(topic);
    const ids = options.ids === undefined ? undefined : new Set(options.ids);
    const chosen = letters.filter((l) => ids?.has(l.message.id) ?? true);
    await releaseDeadLetters(
      this.#ctx,
      letters.filter((l) => !chosen.includes(l)),
    );

    return replay(this.#ctx, chosen);
  }

  async purgeDeadLetters(channel: string): Promise<number> {
    this.#ctx.lifecycle.check('purge dead letters');
    const topic = await this.#topics.require(channel);
    return purgeChannelDeadLetters(this.#ctx, this.#queues, topic);
  }

  /**
   * Sends `letter` to the dead-letter queue of its group. NotFoundError
   * when the channel, the group's queue or its dead-letter queue does not
   * exist.
   */
  async deadLetter(channel: string, letter: DeadLetterInput): Promise<void> {
    this.#ctx.lifecycle.check('store a dead letter');
    const topic = await this.#topics.require(channel);
    const { prefix } = this.#ctx.options;
    const { ordered } = topic;
    const { group } = letter;
    const queue = groupQueueName(prefix, channel, group, ordered);
    const deadLetters = deadLetterQueueName(prefix, channel, group, ordered);

    if ((await this.#queues.find(queue)) === undefined) {
      throw new NotFoundError('consumer', group, {
        message: `cannot dead-letter message '${letter.message.id}': group '${group}' of channel '${channel}' has no queue ${queue}`,
        details: { provider: PROVIDER, channel, group, queue },
      });
    }
    const url = await this.#queues.find(deadLetters);
    if (url === undefined) {
      throw new NotFoundError('dead-letter', deadLetters, {
        message: `cannot dead-letter message '${letter.message.id}': group '${group}' of channel '${channel}' has no dead-letter queue ${deadLetters}`,
        details: { provider: PROVIDER, channel, group, queue: deadLetters },
      });
    }

    await storeDeadLetter(this.#ctx, { url, ordered }, letter);
  }

  async #readDeadLetters(topic: ChannelTopic) {
    const { deadLetters } = await channelQueues(this.#ctx, this.#queues, topic);
    return readDeadLetters(this.#ctx, topic.channel, deadLetters);
  }

  async #openGroup(
    topic: ChannelTopic,
    spec: ConsumerSpec,
  ): Promise<TransportConsumer> {
    const queues = await this.#ensureGroup(topic, spec.name, spec.maxAttempts);
    return new SqsConsumer(this.#ctx, topic, spec, queues);
  }

  async #ensureGroup(
    topic: ChannelTopic,
    group: string,
    maxAttempts: number,
  ): Promise<{ url: string; deadLetterUrl: string }> {
    const { prefix } = this.#ctx.options;
    const { channel, ordered } = topic;
    const name = groupQueueName(prefix, channel, group, ordered);
    const deadLetters = deadLetterQueueName(prefix, channel, group, ordered);

    const deadLetterUrl = await this.#queues.ensureDeadLetters(
      topic,
      deadLetters,
    );
    const { url } = await this.#queues.ensureConsumer(topic, {
      name,
      deadLetters,
      maxAttempts,
      tags: { [CONSUMER_TAG]: group, [MODE_TAG]: 'group' },
    });
    return { url, deadLetterUrl };
  }
}
