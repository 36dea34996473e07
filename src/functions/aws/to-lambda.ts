/**
 * `toLambda`: a Switchyard function as an AWS Lambda handler.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { ConfigurationError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import type { SwitchyardFunction } from '../types.ts';
import { channelBatchProcessor } from './channel-batch.ts';
import { LambdaBatchError, LambdaEventError } from './errors.ts';
import { batchResponse, isFailed, readEvent } from './lambda-event.ts';
import { handleObjectRecords } from './objects-batch.ts';
import {
  type LambdaOptions,
  type ResolvedLambdaOptions,
  resolveLambdaOptions,
} from './options.ts';
import type { RecordOutcome } from './record-delivery.ts';
import { snsRequestRecord, sqsRequestRecord } from './request-records.ts';
import { requestProcessor } from './requests.ts';
import { type LambdaRuntime, lazyRuntime } from './runtime.ts';
import { scheduleHandler } from './schedule.ts';
import { readSnsRecord } from './sns-records.ts';
import { readSqsRecord } from './sqs-records.ts';

/** The triggers a Lambda handler can take. */
const TRIGGERS = ['channel', 'broadcast', 'objects', 'schedule', 'request'];

/**
 * A Lambda handler made by {@link toLambda}. It returns the SQS partial
 * batch response for an SQS event and nothing for SNS, S3 and scheduled
 * events, which Lambda invokes asynchronously and retries when it
 * throws.
 */
export type SwitchyardLambdaHandler = (
  event: unknown,
  context?: Partial<Context>,
) => Promise<SQSBatchResponse | undefined>;

/**
 * Turns a Switchyard function into a Lambda handler, run on the event
 * the function's trigger maps to:
 *
 * - channel and broadcast functions take SQS events (the queue of the
 *   function's group; report `ReportBatchItemFailures` in the event
 *   source mapping) and SNS events (a topic subscribed to the function).
 *   Each record's body is the message's CloudEvents envelope. The core
 *   delivery processing runs on each record with the function's
 *   guarantee, retries and attempt limit, the attempt being SQS's
 *   `ApproximateReceiveCount`. A record that succeeded, was a duplicate
 *   or was dead-lettered leaves the queue; any other is returned in
 *   `batchItemFailures`. With the `sqs` option, a retry's delay becomes
 *   the record's visibility.
 * - claim check: with the `claimCheck` option, or the configuration's
 *   (`SWITCHYARD_CLAIM_CHECK_BUCKET`), a record whose message carries a
 *   claim-check reference is handed to the handler with the original
 *   data and content type, its object read from the bucket of the
 *   objects provider with size and SHA-256 checked. A missing or corrupt
 *   object dead-letters the record with a reason naming the bucket and
 *   key; a read that fails for now (unreachable, throttled) is retried
 *   like a failed handler. The object is never removed here: Lambda
 *   deletes the message only after the batch response, and a record
 *   that comes back needs it again, so it stays until the bucket's
 *   expiry rule (the lifecycle rule the CDK app declares) removes it.
 *   The handler's publishes carry bodies over the limit as objects.
 * - FIFO queues: records of one message group run in order, and once
 *   one fails, the later records of its group are returned as failures
 *   without running.
 * - dead letters (over `maxAttempts`, a `PermanentError`, a record that
 *   is not a Switchyard message): stored with the reason through the
 *   channel transport's `deadLetter` when the provider offers one;
 *   otherwise reported failed so that the queue's redrive policy (its
 *   `maxReceiveCount` set to the function's `maxAttempts`) moves them
 *   to the dead-letter queue, and the reason is logged.
 * - exactly-once functions keep their idempotency record (the
 *   Powertools layout) with a lease that ends before the invocation's
 *   deadline.
 * - objects functions take S3 events, each record handed to the handler
 *   as the object event the local runner raises.
 * - schedule functions take the scheduled events of an EventBridge rule
 *   (`source` `aws.events`, `detail-type` `Scheduled Event`): each runs
 *   the handler once with `{ scheduledAt }`, the event's `time`. A
 *   handler that throws fails the invocation, so that Lambda retries it
 *   as the rule's retry policy says, then gives it to the rule's
 *   dead-letter queue. Any other event is a `LambdaEventError`.
 * - request functions take SQS events of the subject's request queue
 *   (see `requestQueueName`) and SNS events of its gather topic (see
 *   `gatherTopicName`). Each request is decoded as a server of the aws
 *   provider decodes it, the handler's return value is the reply, and a
 *   handler that throws gives the failed reply that the requester
 *   rejects with a `RemoteError`. Replies go to the requester's reply
 *   queue with SendMessage through the `sqs` option's client, or one
 *   built from the environment. A request whose requester stopped
 *   waiting is dropped; one whose reply could not be sent is returned
 *   in `batchItemFailures` (SQS) or fails the invocation (SNS). Like the
 *   aws provider's servers, a request is answered at most once per
 *   delivery: a request redelivered after a failed send runs again.
 *
 * The provider is started on the first invocation and reused until the
 * instance is recycled. A failure to start it, or to open the
 * idempotency table, fails the whole invocation, so every record comes
 * back. An event the handler cannot read throws a `LambdaEventError`
 * saying what it received; an SNS or S3 batch with failures throws a
 * `LambdaBatchError` naming them.
 *
 * Throws a `ConfigurationError` at once for a function without a
 * trigger Lambda can take, or for a bad option.
 *
 * @example
 * ```ts
 * import { toLambda } from 'switchyard/aws-lambda';
 * import { indexer } from './functions/indexer.ts';
 *
 * export const handler = toLambda(indexer);
 * ```
 */
export function toLambda(
  fn: SwitchyardFunction<never>,
  options: LambdaOptions = {},
): SwitchyardLambdaHandler {
  const { trigger } = fn;
  if (!TRIGGERS.includes(trigger?.type)) {
    throw new ConfigurationError(
      `toLambda takes a channel, broadcast, objects, schedule or request function; function '${fn?.name}' has a ${trigger?.type} trigger`,
      { field: 'trigger.type', value: trigger?.type },
    );
  }
  const resolved = resolveLambdaOptions(fn as SwitchyardFunction, options);
  const runtime = lazyRuntime(fn as SwitchyardFunction, resolved);
  const log = (resolved.logger ?? silentLogger).child({ function: fn.name });

  if (trigger.type === 'schedule') {
    return scheduleHandler(fn.name, runtime, resolved);
  }
  if (trigger.type === 'request') {
    return requestHandler(fn.name, runtime, resolved);
  }
  if (trigger.type === 'objects') {
    return async (event, context) => {
      const { source, records } = readEvent(event, fn.name);
      if (source === 'aws:s3') {
        await handleObjectRecords(await runtime(), records, context, resolved);
        return undefined;
      }
      if (source === 's3:TestEvent' || source === 'none') return undefined;
      if (source === 'aws:sqs') {
        // A queue wired to an objects function: hand every record back
        // to the queue, whose redrive policy keeps them.
        log.error('SQS records reached an objects function; reported failed', {
          records: records.length,
        });
        return batchResponse(
          records.map((r) => ({
            id: (r as { messageId?: string })?.messageId,
            status: 'failed',
          })),
        );
      }
      throw mismatch(fn.name, source, 'S3');
    };
  }

  const process = channelBatchProcessor(runtime, resolved);
  return async (event, context) => {
    const { source, records } = readEvent(event, fn.name);
    if (source === 'aws:sqs') {
      return batchResponse(await process(records, readSqsRecord, context));
    }
    if (source === 'aws:sns') {
      const outcomes = await process(records, readSnsRecord, context);
      throwFailed(outcomes, 'messages', fn.name);
      return undefined;
    }
    if (source === 'none') return { batchItemFailures: [] };
    throw mismatch(fn.name, source, 'SQS or SNS');
  };
}

/**
 * The handler of a request function: requests from the subject's
 * request queue (SQS) and gathers from its topic (SNS).
 */
function requestHandler(
  fn: string,
  runtime: () => Promise<LambdaRuntime>,
  options: ResolvedLambdaOptions,
): SwitchyardLambdaHandler {
  const answer = requestProcessor(runtime, options);

  return async (event, context) => {
    const { source, records } = readEvent(event, fn);
    if (source === 'aws:sqs') {
      return batchResponse(
        await answer(records.map(sqsRequestRecord), context),
      );
    }
    if (source === 'aws:sns') {
      const outcomes = await answer(records.map(snsRequestRecord), context);
      throwFailed(outcomes, 'replies', fn);
      return undefined;
    }
    if (source === 'none') return { batchItemFailures: [] };
    throw mismatch(fn, source, 'SQS or SNS');
  };
}

/** Throws a LambdaBatchError naming the failed records, if any. */
function throwFailed(
  outcomes: readonly RecordOutcome[],
  what: string,
  fn: string,
): void {
  const failed = outcomes.filter(isFailed);
  if (failed.length === 0) return;
  throw new LambdaBatchError(
    what,
    failed.map((o) => ({
      id: o.id ?? '(no id)',
      reason: o.reason ?? 'handler failed',
    })),
    { total: outcomes.length, function: fn },
  );
}

function mismatch(fn: string, source: string, wanted: string) {
  return new LambdaEventError(
    `function '${fn}' takes ${wanted} events, got records of event source ${JSON.stringify(source)}`,
    { field: 'event.Records.0.eventSource', value: source },
  );
}
