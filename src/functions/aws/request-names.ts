/**
 * Names of the SQS queue and SNS topic a request function is wired to,
 * the ones the aws provider's requesters use, for the code that
 * deploys the function.
 */
import { assertSubject } from '../../core/request-handle.ts';
import {
  gatherTopicNameOf,
  requestQueueNameOf,
} from '../../providers/aws/request-names.ts';

/** Options of {@link requestQueueName} and {@link gatherTopicName}. */
export interface RequestNameOptions {
  /** The aws provider's resource prefix. Default: none. */
  prefix?: string;
}

/**
 * The name of the request queue of `subject`: the event source of the
 * SQS trigger of a function serving it. Throws a ValidationError for a
 * subject that is not valid.
 *
 * @example
 * ```ts
 * requestQueueName('router.stats', { prefix: 'prod-' });
 * // 'prod-sy-req-router_stats-{hash}'
 * ```
 */
export function requestQueueName(
  subject: string,
  options: RequestNameOptions = {},
): string {
  return requestQueueNameOf(options.prefix ?? '', assertSubject(subject));
}

/**
 * The name of the gather topic of `subject`. A requester sends a
 * request only while the topic has a subscriber, and a gather waits
 * for one reply per subscriber: subscribe the function serving the
 * subject to it, so that it counts as its one live server.
 */
export function gatherTopicName(
  subject: string,
  options: RequestNameOptions = {},
): string {
  return gatherTopicNameOf(options.prefix ?? '', assertSubject(subject));
}
