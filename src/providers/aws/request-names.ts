/**
 * Names of the queues and topics behind request/reply. A subject may hold
 * `.` and run to 128 characters, while an SQS queue name holds only
 * letters, digits, `-` and `_`, 80 at most: a name carries the subject
 * with `.` made `_`, cut to fit, and a hash of the subject as given, so
 * that two subjects never share a queue.
 */
import { createHash } from 'node:crypto';
import type { AwsContext } from './context.ts';

/** The longest SQS queue name. */
const QUEUE_NAME_LIMIT = 80;

/** Characters of the subject's hash in a name. */
const HASH_LENGTH = 8;

/** The queue every server of `subject` takes requests from. */
export function requestQueueName(context: AwsContext, subject: string): string {
  return requestQueueNameOf(context.options.prefix, subject);
}

/** The topic whose subscribers are the live servers of `subject`. */
export function gatherTopicName(context: AwsContext, subject: string): string {
  return gatherTopicNameOf(context.options.prefix, subject);
}

/**
 * {@link requestQueueName} under resource prefix `prefix`, for code
 * that declares the queue without a provider (infra, a Lambda setup).
 */
export function requestQueueNameOf(prefix: string, subject: string): string {
  return named(prefix, 'sy-req-', subject, '');
}

/** {@link gatherTopicName} under resource prefix `prefix`. */
export function gatherTopicNameOf(prefix: string, subject: string): string {
  return named(prefix, 'sy-gather-', subject, '');
}

/** The queue of server `serverId` of `subject`, which receives gathers. */
export function serverQueueName(
  context: AwsContext,
  subject: string,
  serverId: string,
): string {
  return named(context.options.prefix, 'sy-srv-', subject, `-${serverId}`);
}

/** The reply queue of requester `requesterId`. */
export function replyQueueName(
  context: AwsContext,
  requesterId: string,
): string {
  return `${replyQueuePrefixOf(context.options.prefix)}${requesterId}`;
}

/**
 * How the name of every requester's reply queue starts under resource
 * prefix `prefix`, for code that grants sending replies.
 */
export function replyQueuePrefixOf(prefix: string): string {
  // The prefix joins as AwsContext.resourceName joins it.
  return `${prefix}sy-reply-`;
}

function named(
  prefix: string,
  kind: string,
  subject: string,
  suffix: string,
): string {
  const hash = createHash('sha256')
    .update(subject)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const fixed = prefix.length + kind.length + 1 + HASH_LENGTH + suffix.length;
  const readable = subject
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, QUEUE_NAME_LIMIT - fixed);
  // The prefix joins as AwsContext.resourceName joins it.
  return `${prefix}${kind}${readable}-${hash}${suffix}`;
}
