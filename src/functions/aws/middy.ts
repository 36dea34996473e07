/**
 * `switchyardBatch`: the SQS form of {@link toLambda} as a middy
 * middleware, for handlers built with middy.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { ConfigurationError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { errorFields } from '../../delivery/errors.ts';
import type { SwitchyardFunction } from '../types.ts';
import { channelBatchProcessor } from './channel-batch.ts';
import { LambdaEventError } from './errors.ts';
import { batchResponse, readEvent } from './lambda-event.ts';
import { type LambdaOptions, resolveLambdaOptions } from './options.ts';
import type { RecordOutcome } from './record-delivery.ts';
import { lazyRuntime } from './runtime.ts';
import { readSqsRecord } from './sqs-records.ts';

/** The part of a middy request the middleware reads and writes. */
export interface BatchRequest {
  event: unknown;
  context: Context;
  response?: unknown;
  error?: unknown;
}

/** A middy middleware object; `middy().use()` takes it. */
export interface BatchMiddleware {
  before(request: BatchRequest): Promise<void>;
  after(request: BatchRequest): Promise<void>;
  onError(request: BatchRequest): Promise<void>;
}

/**
 * A middy middleware that runs a channel function on the SQS batch of
 * each invocation, as {@link toLambda} does, and sets the partial batch
 * response.
 *
 * - `before` processes the batch; the handler middy wraps runs after
 *   it, on the same event.
 * - `after` sets the response to the records that failed, together with
 *   any `batchItemFailures` the wrapped handler returned.
 * - `onError`, when the wrapped handler threw after the batch was
 *   processed, reports every record failed except those already stored
 *   as dead letters, so that the queue delivers them again; an
 *   exactly-once record that succeeded is then skipped as a duplicate.
 *   An error before the batch was processed (an event it cannot read,
 *   a provider that does not start) is left to fail the invocation.
 *
 * @example
 * ```ts
 * export const handler = middy()
 *   .use(switchyardBatch(indexer))
 *   .handler(async () => {});
 * ```
 */
export function switchyardBatch(
  fn: SwitchyardFunction<never>,
  options: LambdaOptions = {},
): BatchMiddleware {
  const { trigger } = fn;
  if (trigger?.type !== 'channel' && trigger?.type !== 'broadcast') {
    throw new ConfigurationError(
      `switchyardBatch takes a channel or broadcast function; function '${fn?.name}' has a ${trigger?.type} trigger`,
      { field: 'trigger.type', value: trigger?.type },
    );
  }
  const resolved = resolveLambdaOptions(fn as SwitchyardFunction, options);
  const process = channelBatchProcessor(
    lazyRuntime(fn as SwitchyardFunction, resolved),
    resolved,
  );
  const log = (resolved.logger ?? silentLogger).child({ function: fn.name });
  const processed = new WeakMap<BatchRequest, RecordOutcome[]>();

  return {
    async before(request) {
      const { source, records } = readEvent(request.event, fn.name);
      if (source !== 'aws:sqs' && source !== 'none') {
        throw new LambdaEventError(
          `switchyardBatch of function '${fn.name}' takes SQS events, got records of event source ${JSON.stringify(source)}`,
          { field: 'event.Records.0.eventSource', value: source },
        );
      }
      processed.set(
        request,
        await process(records, readSqsRecord, request.context),
      );
    },
    async after(request) {
      const outcomes = processed.get(request) ?? [];
      const own = batchResponse(outcomes).batchItemFailures;
      const theirs = batchItemFailures(request.response);
      const ids = new Set([...own, ...theirs].map((f) => f.itemIdentifier));
      request.response = {
        batchItemFailures: [...ids].map((id) => ({ itemIdentifier: id })),
      } satisfies SQSBatchResponse;
    },
    async onError(request) {
      const outcomes = processed.get(request);
      if (outcomes === undefined) return;
      log.error('the handler failed after the batch; every record returns', {
        ...errorFields(request.error),
      });
      request.response = batchResponse(
        outcomes.map((o) => ({
          id: o.id,
          status: o.status === 'dead-lettered' ? o.status : 'failed',
        })),
      );
    },
  };
}

function batchItemFailures(
  response: unknown,
): SQSBatchResponse['batchItemFailures'] {
  const failures = (response as Partial<SQSBatchResponse> | undefined)
    ?.batchItemFailures;
  return Array.isArray(failures) ? failures : [];
}
