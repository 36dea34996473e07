/**
 * The SNS topics of channels: creating them, and finding the topic of a
 * channel (standard, or FIFO for an ordered channel) from its name alone.
 *
 * SNS addresses a topic by ARN. The ARN of a topic the instance did not
 * create is built from those of any topic of the account: the first one
 * listed gives the partition, region and account, and then
 * `GetTopicAttributes` says whether `{name}` or `{name}.fifo` exists.
 * What was found is kept for the life of the instance, and forgotten when
 * the channel is deleted or a call finds it gone.
 */
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListTopicsCommand,
} from '@aws-sdk/client-sns';
import type { AwsContext } from './context.ts';
import { awsError, isMissing, notFound } from './errors.ts';
import { topicName } from './names.ts';

/** The topic of one channel. */
export interface ChannelTopic {
  channel: string;
  arn: string;
  /** FIFO topic and queues: the channel is ordered. */
  ordered: boolean;
  /** `arn:{partition}:{service}:{region}:{account}:` with `sqs`. */
  queueArnBase: string;
}

/** The topics of one provider instance, with what it found of them. */
export class Topics {
  readonly #ctx: AwsContext;
  readonly #known = new Map<string, ChannelTopic>();
  /** `arn:{partition}:sns:{region}:{account}:`, once learnt. */
  #arnBase: string | undefined;

  constructor(ctx: AwsContext) {
    this.#ctx = ctx;
  }

  /**
   * Creates the topic of `channel` if no topic of either kind exists.
   * An existing channel keeps the kind it was created with.
   */
  async ensure(channel: string, ordered: boolean): Promise<ChannelTopic> {
    const found = await this.find(channel);
    if (found !== undefined) return found;

    const { prefix } = this.#ctx.options;
    const name = topicName(prefix, channel, ordered);
    try {
      const created = await this.#ctx.sns.send(
        new CreateTopicCommand({
          Name: name,
          ...(ordered && {
            Attributes: {
              FifoTopic: 'true',
              ContentBasedDeduplication: 'false',
            },
          }),
        }),
      );
      return this.#remember(channel, created.TopicArn ?? '', ordered);
    } catch (error) {
      throw awsError(error, `create the topic of channel '${channel}'`, {
        details: { channel },
      });
    }
  }

  /** The topic of `channel`, or undefined when it has none. */
  async find(channel: string): Promise<ChannelTopic | undefined> {
    const known = this.#known.get(channel);
    if (known !== undefined) return known;
    const base = await this.#base();
    if (base === undefined) return undefined;

    const { prefix } = this.#ctx.options;
    for (const ordered of [false, true]) {
      const arn = `${base}${topicName(prefix, channel, ordered)}`;
      if (await this.#exists(arn, channel)) {
        return this.#remember(channel, arn, ordered);
      }
    }
    return undefined;
  }

  /** The topic of `channel`; NotFoundError when it has none. */
  async require(channel: string): Promise<ChannelTopic> {
    const topic = await this.find(channel);
    if (topic === undefined) {
      throw notFound('channel', channel, { channel });
    }
    return topic;
  }

  /** Forgets what was found of `channel`, which is gone or changed. */
  forget(channel: string): void {
    this.#known.delete(channel);
  }

  /** ARNs of every topic of the account whose name starts with `start`. */
  async list(start: string): Promise<string[]> {
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#ctx.sns
        .send(new ListTopicsCommand({ NextToken: token }))
        .catch((error: unknown) => {
          throw awsError(error, 'list topics');
        });
      for (const { TopicArn } of page.Topics ?? []) {
        if (TopicArn === undefined) continue;
        this.#learn(TopicArn);
        const name = TopicArn.slice(TopicArn.lastIndexOf(':') + 1);
        if (name.startsWith(start)) arns.push(TopicArn);
      }
      token = page.NextToken;
    } while (token !== undefined);

    return arns;
  }

  async #base(): Promise<string | undefined> {
    if (this.#arnBase !== undefined) return this.#arnBase;
    const page = await this.#ctx.sns
      .send(new ListTopicsCommand({}))
      .catch((error: unknown) => {
        throw awsError(error, 'list topics');
      });
    const first = page.Topics?.find((topic) => topic.TopicArn)?.TopicArn;
    if (first !== undefined) this.#learn(first);
    return this.#arnBase;
  }

  async #exists(arn: string, channel: string): Promise<boolean> {
    try {
      await this.#ctx.sns.send(
        new GetTopicAttributesCommand({ TopicArn: arn }),
      );
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw awsError(error, `look up the topic of channel '${channel}'`, {
        details: { channel },
      });
    }
  }

  #learn(arn: string): void {
    this.#arnBase ??= arn.slice(0, arn.lastIndexOf(':') + 1);
  }

  #remember(channel: string, arn: string, ordered: boolean): ChannelTopic {
    this.#learn(arn);
    const base = arn.slice(0, arn.lastIndexOf(':') + 1);
    const topic: ChannelTopic = {
      channel,
      arn,
      ordered,
      queueArnBase: base.replace(/^(arn:[^:]+:)sns:/, '$1sqs:'),
    };
    this.#known.set(channel, topic);
    return topic;
  }
}
