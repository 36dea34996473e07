/**
 * Names of the AWS resources of a pipeline. Topics and queues are named
 * by the aws provider's own naming, so that the deployed resources are
 * the ones a running pipeline opens. Every name starts with the
 * deployment prefix.
 *
 * - topic of a channel: `{prefix}{channel}`, `.fifo` when ordered;
 * - queue of a worker group: `{prefix}{channel}--{group}`;
 * - its dead-letter queue: `{prefix}{channel}--{group}-dlq`;
 * - table of a key-value bucket, the idempotency table and the bucket
 *   of an object bucket: `{prefix}{name}`;
 * - request queue and gather topic of a subject, and the reply queues
 *   of its requesters: as the provider names them (`sy-req-`,
 *   `sy-gather-`, `sy-reply-` after the prefix);
 * - Lambda function and schedule rule of pipeline function `name`:
 *   `{prefix}{pipeline}-{name}`, the rule's dead-letter queue with
 *   `-schedule-dlq` after it.
 *
 * FIFO topics and queues take `.fifo` after the name, as SNS and SQS
 * require; a queue name over 80 characters is a ValidationError.
 */

export {
  gatherTopicName,
  requestQueueName,
} from '../../src/functions/aws/request-names.ts';
export {
  consumerQueuePrefix,
  deadLetterQueueName,
  groupQueueName,
  topicName,
} from '../../src/providers/aws/names.ts';
export { replyQueuePrefixOf as replyQueuePrefix } from '../../src/providers/aws/request-names.ts';

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

/** The schedule rule of pipeline function `name`. */
export function ruleName(
  prefix: string,
  pipeline: string,
  name: string,
): string {
  return lambdaName(prefix, pipeline, name);
}

/** The dead-letter queue of the schedule rule of function `name`. */
export function scheduleDeadLetterQueueName(
  prefix: string,
  pipeline: string,
  name: string,
): string {
  return `${lambdaName(prefix, pipeline, name)}-schedule-dlq`;
}
