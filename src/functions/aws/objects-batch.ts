/**
 * S3 events for an objects function. S3 invokes Lambda asynchronously:
 * the records run one after the other, in order, and if any of them
 * failed the invocation throws a {@link LambdaBatchError} naming each,
 * so that Lambda retries it and, after its last retry, hands the event
 * to the function's on-failure destination. The handler must therefore
 * tolerate an event it already handled, as under the local runner.
 */
import type { Context } from 'aws-lambda';
import { describeError, errorFields } from '../../delivery/errors.ts';
import type { ObjectEvent, ObjectsTrigger } from '../types.ts';
import { LambdaBatchError, type RecordFailure } from './errors.ts';
import { invocationDeadline } from './invocation.ts';
import type { ResolvedLambdaOptions } from './options.ts';
import type { LambdaRuntime } from './runtime.ts';
import { readS3Record } from './s3-records.ts';

/** Handles the records of one S3 event. */
export async function handleObjectRecords(
  runtime: LambdaRuntime,
  records: readonly unknown[],
  context: Partial<Context> | undefined,
  options: ResolvedLambdaOptions,
): Promise<void> {
  const { fn, logger, stats } = runtime;
  const trigger = fn.trigger as ObjectsTrigger;
  const failures: RecordFailure[] = [];
  const deadline = invocationDeadline(context, options.safetyMarginMs);

  try {
    for (const [index, record] of records.entries()) {
      const reading = readS3Record(record, index, trigger);
      if (reading.kind === 'skip') {
        logger.warn('object event outside the trigger skipped', {
          why: reading.why,
        });
        continue;
      }
      stats.delivered++;
      if (reading.kind === 'bad') {
        stats.failed++;
        failures.push({ id: `record-${index}`, reason: reading.reason });
        continue;
      }
      if (deadline.signal.aborted) {
        failures.push({
          id: reading.event.name,
          reason: 'not started before the invocation deadline',
        });
        continue;
      }
      const event = await withInfo(runtime, reading.event, reading.info);
      const failure = await runHandler(runtime, event, deadline.signal);
      if (failure !== undefined) failures.push(failure);
    }
  } finally {
    deadline.clear();
  }

  if (failures.length > 0) {
    logger.error('object events failed; the invocation is retried', {
      failed: failures.length,
      objects: failures.map((f) => f.id),
    });
    throw new LambdaBatchError('object events', failures, {
      total: records.length,
      function: fn.name,
    });
  }
}

/**
 * The event of a put with the object's metadata as the store reports
 * it, as the local runner gives it; the record's own (size, etag, time)
 * when the object is gone again or cannot be read.
 */
async function withInfo(
  runtime: LambdaRuntime,
  event: ObjectEvent,
  fallback: ObjectEvent['info'],
): Promise<ObjectEvent> {
  if (event.type !== 'put') return event;
  let info = fallback;
  try {
    info =
      (await runtime.client.objects(event.bucket).head(event.name)) ?? info;
  } catch (error) {
    runtime.logger.debug('could not read the object metadata', {
      object: event.name,
      ...errorFields(error),
    });
  }
  return info !== undefined ? { ...event, info } : event;
}

async function runHandler(
  runtime: LambdaRuntime,
  event: ObjectEvent,
  signal: AbortSignal,
): Promise<RecordFailure | undefined> {
  const { fn, stats } = runtime;
  stats.runs++;
  stats.inFlight++;
  try {
    await fn.handler(event, {
      name: fn.name,
      attempt: 1,
      signal,
      logger: runtime.logger.child({ object: event.name }),
      switchyard: runtime.client,
      stats: runtime.pipelineStats,
    });
    stats.succeeded++;
    return undefined;
  } catch (error) {
    stats.failed++;
    return { id: event.name, reason: describeError(error) };
  } finally {
    stats.inFlight--;
  }
}
