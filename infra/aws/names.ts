/**
 * Names of the AWS resources of a pipeline, the same the aws provider
 * uses at run time, so that the deployed resources are the ones a
 * running pipeline opens. Every name starts with the deployment prefix.
 *
 * - topic of a channel: `{prefix}{channel}`, `.fifo` when ordered;
 * - queue of a worker group: `{prefix}{channel}--{group}`;
 * - its dead-letter queue: `{prefix}{channel}--{group}-dlq`;
 * - table of a key-value bucket, the idempotency table and the bucket
 *   of an object bucket: `{prefix}{name}`.
 *
 * FIFO queues take `.fifo` after the name, as SQS requires.
 */

/** SNS and SQS end the names of their FIFO topics and queues with this. */
const FIFO_SUFFIX = '.fifo';

/** The longest queue name SQS accepts. */
const MAX_QUEUE_NAME = 80;

/** The topic of `channel`. */
export function topicName(
  prefix: string,
  channel: string,
  ordered: boolean,
): string {
  return fifo(`${prefix}${channel}`, ordered);
}

/** The queue of worker group `group` of `channel`. */
export function groupQueueName(
  prefix: string,
  channel: string,
  group: string,
  ordered: boolean,
): string {
  return queueName(`${prefix}${channel}--${group}`, ordered);
}

/** The dead-letter queue of worker group `group` of `channel`. */
export function deadLetterQueueName(
  prefix: string,
  channel: string,
  group: string,
  ordered: boolean,
): string {
  return queueName(`${prefix}${channel}--${group}-dlq`, ordered);
}

/** The DynamoDB table of a key-value bucket or idempotency table. */
export function tableName(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** The S3 bucket of object bucket `name`. */
export function bucketName(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** The Lambda function of pipeline function `name`. */
export function lambdaName(
  prefix: string,
  pipeline: string,
  name: string,
): string {
  return `${prefix}${pipeline}-${name}`;
}

function queueName(base: string, ordered: boolean): string {
  const name = fifo(base, ordered);
  if (name.length > MAX_QUEUE_NAME) {
    throw new RangeError(
      `queue name ${name} is ${name.length} characters long; SQS allows at most ${MAX_QUEUE_NAME}: shorten the prefix, channel or group`,
    );
  }
  return name;
}

function fifo(name: string, ordered: boolean): string {
  return ordered ? `${name}${FIFO_SUFFIX}` : name;
}
