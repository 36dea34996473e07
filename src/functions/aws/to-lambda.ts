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
import { type LambdaOptions, resolveLambdaOptions } from './options.ts';
import { lazyRuntime } from './runtime.ts';
import { readSnsRecord } from './sns-records.ts';
import { readSqsRecord } from './sqs-records.ts';

/**
 * A Lambda handler made by {@link toLambda}. It returns the SQS partial
 * batch response for an SQS event and nothing for SNS and S3 events,
 * which Lambda invokes asynchronously and retries when it throws.
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
 *
 * The provider is started on the first invocation and reused until the
 * instance is recycled. A failure to start it, or to open the
 * idempotency table, fails the whole invocation, so every record comes
 * back. An event the handler cannot read throws a `LambdaEventError`
 * saying what it received; an SNS or S3 batch with failures throws a
 * `LambdaBatchError` naming them.
 *
 * Throws a `ConfigurationError` at once for a schedule or request
 * function, or for a bad option.
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
  if (!['channel', 'broadcast', 'objects'].includes(trigger?.type)) {
    throw new ConfigurationError(
      `toLambda takes a channel, broadcast or objects function; function '${fn?.name}' has a ${trigger?.type} trigger`,
      { field: 'trigger.type', value: trigger?.type },
    );
  }
  const resolved = resolveLambdaOptions(fn as SwitchyardFunction, options);
  const runtime = lazyRuntime(fn as SwitchyardFunction, resolved);
  const log = (resolved.logger ?? silentLogger).child({ function: fn.name });

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
      const failed = outcomes.filter(isFailed);
      if (failed.length > 0) {
        throw new LambdaBatchError(
          'messages',
          failed.map((o) => ({
            id: o.id ?? '(no id)',
            reason: o.reason ?? 'handler failed',
          })),
          { total: outcomes.length, function: fn.name },
        );
      }
      return undefined;
    }
    if (source === 'none') return { batchItemFailures: [] };
    throw mismatch(fn.name, source, 'SQS or SNS');
  };
}

function mismatch(fn: string, source: string, wanted: string) {
  return new LambdaEventError(
    `function '${fn}' takes ${wanted} events, got records of event source ${JSON.stringify(source)}`,
    { field: 'event.Records.0.eventSource', value: source },
  );
}
