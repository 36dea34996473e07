/**
 * The SQS queues of channels: a worker group's queue with its dead-letter
 * queue and subscription, created when the group is first declared or
 * consumed, a broadcast consumer's queue, and their counters.
 *
 * A consumer queue is subscribed to the channel's topic with raw message
 * delivery, so its body is the message as published. Its policy lets
 * that topic, and only it, send to it. Its redrive policy moves a message
 * to the dead-letter queue after `maxAttempts` receives (at most 1000,
 * the SQS limit); a consumer that opens with another `maxAttempts`
 * updates it.
 */

import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, isMissing } from './errors.ts';
import { lastPart } from './names.ts';
import type { ChannelTopic } from './topics.ts';

/** The most receives SQS allows a redrive policy to count. */
export const MAX_RECEIVE_COUNT = 1000;

/** Counters of one queue. */
export interface QueueCounts {
  /** Messages waiting to be received. */
  visible: number;
  /** Messages received and not yet deleted. */
  inFlight: number;
  /** Messages sent with a delay that has not passed. */
  delayed: number;
}

/** How a consumer queue is created. */
export interface ConsumerQueueSpec {
  name: string;
  /** Where its redrive policy sends messages. */
  deadLetters: string;
  maxAttempts: number;
  tags: Record<string, string>;
}

/** The queues of one provider instance, with their URLs. */
export class Queues {
  readonly #ctx: AwsContext;
  readonly #urls = new Map<string, string>();

  constructor(ctx: AwsContext) {
    this.#ctx = ctx;
  }

  /** The URL of queue `name`, or undefined when it does not exist. */
  async find(name: string): Promise<string | undefined> {
    const known = this.#urls.get(name);
    if (known !== undefined) return known;
    try {
      const found = await this.#ctx.sqs.send(
        new GetQueueUrlCommand({ QueueName: name }),
      );
      if (found.QueueUrl !== undefined) this.#urls.set(name, found.QueueUrl);
      return found.QueueUrl;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw awsError(error, `look up queue ${name}`);
    }
  }

  /** URLs of the queues whose names start with `start`. */
  async list(start: string): Promise<string[]> {
    const urls: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#ctx.sqs
        .send(
          new ListQueuesCommand({
            QueueNamePrefix: start,
            MaxResults: 1000,
            NextToken: token,
          }),
        )
        .catch((error: unknown) => {
          throw awsError(error, `list the queues of ${start}`);
        });
      for (const url of page.QueueUrls ?? []) {
        this.#urls.set(lastPart(url), url);
        urls.push(url);
      }
      token = page.NextToken;
    } while (token !== undefined);

    return urls;
  }

  /**
   * Creates the dead-letter queue `name` of `topic`'s channel if absent;
   * resolves with its URL.
   */
  async ensureDeadLetters(topic: ChannelTopic, name: string): Promise<string> {
    return this.#create(name, fifoAttributes(topic), {});
  }

  /**
   * Creates the consumer queue of `spec` if absent, with its redrive
   * policy and the policy that lets `topic` send to it, and subscribes
   * it to `topic`; resolves with its URL and subscription. An existing
   * queue whose redrive policy counts other than `spec.maxAttempts`
   * receives is updated.
   */
  async ensureConsumer(
    topic: ChannelTopic,
    spec: ConsumerQueueSpec,
  ): Promise<{ url: string; subscriptionArn: string }> {
    const arn = `${topic.queueArnBase}${spec.name}`;
    const redrive = JSON.stringify({
      deadLetterTargetArn: `${topic.queueArnBase}${spec.deadLetters}`,
      maxReceiveCount: clampAttempts(spec.maxAttempts),
    });
    const attributes = {
      ...fifoAttributes(topic),
      RedrivePolicy: redrive,
      Policy: sendPolicy(arn, topic.arn),
    };

    const existing = await this.find(spec.name);
    const url =
      existing ?? (await this.#create(spec.name, attributes, spec.tags));
    if (existing !== undefined) await this.#updateRedrive(url, redrive);
    const subscriptionArn = await this.#subscribe(topic, arn);

    return { url, subscriptionArn };
  }

  /** The counters of the queue at `url`; undefined if it is gone. */
  async counts(url: string): Promise<QueueCounts | undefined> {
    const attributes = await this.attributes(url, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
    if (attributes === undefined) return undefined;

    return {
      visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Attributes of the queue at `url`; undefined if it is gone. */
  async attributes(
    url: string,
    names: QueueAttributeName[],
  ): Promise<Record<string, string> | undefined> {
    try {
      const answer = await this.#ctx.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
      );
      return answer.Attributes ?? {};
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw awsError(error, `read the attributes of queue ${lastPart(url)}`);
    }
  }

  /** Deletes the queue at `url`; one already gone is no error. */
  async delete(url: string): Promise<void> {
    this.#urls.delete(lastPart(url));
    try {
      await this.#ctx.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (error) {
      if (isMissing(error)) return;
      throw awsError(error, `delete queue ${lastPart(url)}`);
    }
  }

  async #create(
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string>,
  ): Promise<string> {
    const known = await this.find(name);
    if (known !== undefined) return known;
    try {
      const created = await this.#ctx.sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: attributes,
          ...(Object.keys(tags).length > 0 && { tags }),
        }),
      );
      const url = created.QueueUrl ?? '';
      this.#urls.set(name, url);
      return url;
    } catch (error) {
      // Another instance created it first, with other attributes.
      if (awsCode(error) === 'QueueNameExists') {
        const url = await this.find(name);
        if (url !== undefined) return url;
      }
      throw awsError(error, `create queue ${name}`);
    }
  }

  async #updateRedrive(url: string, redrive: string): Promise<void> {
    const current = await this.attributes(url, ['RedrivePolicy']);
    if (current === undefined || sameRedrive(current.RedrivePolicy, redrive)) {
      return;
    }
    try {
      await this.#ctx.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: url,
          Attributes: { RedrivePolicy: redrive },
        }),
      );
    } catch (error) {
      throw awsError(error, `set the redrive policy of ${lastPart(url)}`);
    }
  }

  async #subscribe(topic: ChannelTopic, queueArn: string): Promise<string> {
    try {
      // Subscribing a queue that is subscribed already changes nothing.
      const answer = await this.#ctx.sns.send(
        new SubscribeCommand({
          TopicArn: topic.arn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      );
      return answer.SubscriptionArn ?? '';
    } catch (error) {
      throw awsError(error, `subscribe ${lastPart(queueArn)} to its channel`, {
        details: { channel: topic.channel },
        notFound: { kind: 'channel', resource: topic.channel },
      });
    }
  }
}

/** The attributes that make a queue FIFO when the channel is ordered. */
function fifoAttributes(topic: ChannelTopic): Record<string, string> {
  return topic.ordered
    ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' }
    : {};
}

/** A queue policy that lets the topic `topicArn` send to `queueArn`. */
function sendPolicy(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ChannelTopicSends',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  });
}

function clampAttempts(maxAttempts: number): number {
  if (!Number.isFinite(maxAttempts)) return MAX_RECEIVE_COUNT;
  return Math.min(MAX_RECEIVE_COUNT, Math.max(1, Math.floor(maxAttempts)));
}

function sameRedrive(current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  try {
    const a = JSON.parse(current) as Record<string, unknown>;
    const b = JSON.parse(wanted) as Record<string, unknown>;
    return (
      a.deadLetterTargetArn === b.deadLetterTargetArn &&
      Number(a.maxReceiveCount) === Number(b.maxReceiveCount)
    );
  } catch {
    return false;
  }
}
