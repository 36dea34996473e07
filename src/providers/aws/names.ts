/**
 * Names of the SNS topics and SQS queues that carry channels. The CDK app
 * creates the same names, so that a deployed pipeline and a running one
 * meet on the same resources:
 *
 * | resource | name |
 * | --- | --- |
 * | topic of a channel | `{prefix}{channel}` |
 * | queue of a worker group | `{prefix}{channel}--{group}` |
 * | its dead-letter queue | `{prefix}{channel}--{group}-dlq` |
 * | queue of a broadcast consumer | `{prefix}{channel}--{name}` |
 * | dead letters of broadcast consumers | `{prefix}{channel}-dlq` |
 *
 * An ordered channel's topic and queues are FIFO and take `.fifo` after
 * the name, as SNS and SQS require. Channel and group names never hold
 * `--`, so the queues of a channel are exactly those whose names start
 * with `{prefix}{channel}--`; a group name may not end with `-dlq`, so a
 * dead-letter queue is never taken for a group. SQS allows 80 characters:
 * a group queue whose name would be longer is refused with a
 * ValidationError; a broadcast queue that would be longer is named after a
 * hash of the consumer's name instead (its tags keep the name).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../core/errors.ts';
import { PROVIDER } from './errors.ts';

/** SNS and SQS end the names of FIFO topics and queues with this. */
export const FIFO_SUFFIX = '.fifo';
/** What separates a channel from a consumer in a queue name. */
export const CONSUMER_SEPARATOR = '--';
/** What ends the name of a dead-letter queue, before `.fifo`. */
export const DEAD_LETTER_SUFFIX = '-dlq';
/** The FIFO message group of messages without an ordering key. */
export const DEFAULT_MESSAGE_GROUP = 'switchyard';
/** The longest queue name SQS accepts. */
export const MAX_QUEUE_NAME = 80;

/** Tag of a queue that names the consumer it belongs to. */
export const CONSUMER_TAG = 'switchyard-consumer';
/** Tag of a queue that says `group` or `broadcast`. */
export const MODE_TAG = 'switchyard-mode';
/** Tag of a broadcast queue: when its instance last fetched, in ms. */
export const LAST_SEEN_TAG = 'switchyard-last-seen';

/** The topic of `channel`. */
export function topicName(
  prefix: string,
  channel: string,
  ordered: boolean,
): string {
  return fifo(`${prefix}${channel}`, ordered);
}

/** The start of the name of every consumer queue of `channel`. */
export function consumerQueuePrefix(prefix: string, channel: string): string {
  return `${prefix}${channel}${CONSUMER_SEPARATOR}`;
}

/**
 * The queue of worker group `group` of `channel`. A ValidationError when
 * the name would be longer than SQS allows or the group ends with `-dlq`.
 */
export function groupQueueName(
  prefix: string,
  channel: string,
  group: string,
  ordered: boolean,
): string {
  if (group.endsWith(DEAD_LETTER_SUFFIX)) {
    throw new ValidationError(
      `group name ${JSON.stringify(group)} is not valid on aws: a name ending in ${DEAD_LETTER_SUFFIX} is kept for dead-letter queues`,
      { field: 'group', value: group, details: { provider: PROVIDER } },
    );
  }
  return queueName(`${consumerQueuePrefix(prefix, channel)}${group}`, ordered);
}

/** The dead-letter queue of worker group `group` of `channel`. */
export function deadLetterQueueName(
  prefix: string,
  channel: string,
  group: string,
  ordered: boolean,
): string {
  const base = `${consumerQueuePrefix(prefix, channel)}${group}`;
  return queueName(`${base}${DEAD_LETTER_SUFFIX}`, ordered);
}

/**
 * The queue of broadcast consumer `name` of `channel`: named after the
 * consumer, or after a hash of it when that would be too long.
 */
export function broadcastQueueName(
  prefix: string,
  channel: string,
  name: string,
  ordered: boolean,
): string {
  const start = consumerQueuePrefix(prefix, channel);
  const room = MAX_QUEUE_NAME - start.length - (ordered ? 5 : 0);
  const hash = createHash('sha256').update(name).digest('hex');
  const short = name.length <= room ? name : `b${hash.slice(0, room - 1)}`;
  return fifo(`${start}${short}`, ordered);
}

/** Where broadcast consumers of `channel` put their dead letters. */
export function broadcastDeadLetterQueueName(
  prefix: string,
  channel: string,
  ordered: boolean,
): string {
  return queueName(`${prefix}${channel}${DEAD_LETTER_SUFFIX}`, ordered);
}

/** What a queue name of a channel says about the queue. */
export interface QueueRole {
  /** The consumer part of the name: a group, or a broadcast queue's. */
  consumer: string;
  deadLetters: boolean;
}

/**
 * The role of consumer queue `queue` of the channel whose queues start
 * with `start`, or undefined if it is not one.
 */
export function queueRole(queue: string, start: string): QueueRole | undefined {
  if (!queue.startsWith(start)) return undefined;
  const rest = queue.slice(start.length).replace(/\.fifo$/, '');
  if (rest === '' || rest.includes(CONSUMER_SEPARATOR)) return undefined;
  const deadLetters = rest.endsWith(DEAD_LETTER_SUFFIX);
  const consumer = deadLetters
    ? rest.slice(0, -DEAD_LETTER_SUFFIX.length)
    : rest;
  return { consumer, deadLetters };
}

/** The name of a queue or topic, the last part of its URL or ARN. */
export function lastPart(urlOrArn: string): string {
  return urlOrArn.slice(
    Math.max(urlOrArn.lastIndexOf('/'), urlOrArn.lastIndexOf(':')) + 1,
  );
}

function queueName(base: string, ordered: boolean): string {
  const name = fifo(base, ordered);
  if (name.length > MAX_QUEUE_NAME) {
    throw new ValidationError(
      `queue name ${name} is ${name.length} characters long, over the ${MAX_QUEUE_NAME} SQS allows: shorten the prefix, channel or group`,
      { field: 'queue', value: name, details: { provider: PROVIDER } },
    );
  }
  return name;
}

function fifo(name: string, ordered: boolean): string {
  return ordered ? `${name}${FIFO_SUFFIX}` : name;
}
