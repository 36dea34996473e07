/**
 * Schedule functions on Lambda: an EventBridge rule's scheduled event
 * runs the function once, with the event the local runner's timer
 * passes.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { errorFields } from '../../delivery/errors.ts';
import type { ScheduleEvent } from '../types.ts';
import { describeReceived, LambdaEventError } from './errors.ts';
import { runContext } from './function-context.ts';
import { invocationDeadline } from './invocation.ts';
import type { ResolvedLambdaOptions } from './options.ts';
import type { LambdaRuntime } from './runtime.ts';

/** The `source` of the events of EventBridge schedule rules. */
export const SCHEDULE_SOURCE = 'aws.events';

/** The `detail-type` of a scheduled event. */
export const SCHEDULED_EVENT = 'Scheduled Event';

/**
 * The schedule event of an EventBridge scheduled event: `scheduledAt`
 * is the event's `time`, when the rule fired. Throws a
 * LambdaEventError saying what was received for any other event.
 */
export function readScheduledEvent(event: unknown, fn: string): ScheduleEvent {
  const scheduled = (
    typeof event === 'object' && event !== null ? event : {}
  ) as Partial<ScheduledEvent>;
  const kind = scheduled['detail-type'];
  if (scheduled.source !== SCHEDULE_SOURCE || kind !== SCHEDULED_EVENT) {
    throw new LambdaEventError(
      `function '${fn}' takes EventBridge scheduled events (source ${SCHEDULE_SOURCE}, detail-type ${SCHEDULED_EVENT}), got ${describeEvent(event)}`,
      { field: 'event.detail-type', value: kind ?? describeReceived(event) },
    );
  }
  const scheduledAt = new Date(scheduled.time ?? Number.NaN);
  if (Number.isNaN(scheduledAt.getTime())) {
    throw new LambdaEventError(
      `function '${fn}' received a scheduled event whose time is not a date: got ${JSON.stringify(scheduled.time)}`,
      { field: 'event.time', value: scheduled.time },
    );
  }

  return { scheduledAt };
}

/**
 * Runs the function of `runtime()` once per scheduled event. A handler
 * that throws is logged and rethrown, so that Lambda retries the event
 * as the rule's retry policy says and then hands it to its dead-letter
 * queue.
 */
export function scheduleHandler(
  fn: string,
  runtime: () => Promise<LambdaRuntime>,
  options: ResolvedLambdaOptions,
): (event: unknown, context?: Partial<Context>) => Promise<undefined> {
  return async (event, context) => {
    const scheduled = readScheduledEvent(event, fn);
    const current = await runtime();
    const { stats } = current;
    const deadline = invocationDeadline(context, options.safetyMarginMs);
    const logger = current.logger;
    stats.delivered++;
    stats.runs++;
    stats.inFlight++;
    logger.debug('scheduled run', {
      scheduledAt: scheduled.scheduledAt.toISOString(),
    });

    try {
      await current.fn.handler(
        scheduled,
        runContext(current, { signal: deadline.signal }),
      );
      stats.succeeded++;
    } catch (error) {
      stats.failed++;
      logger.error('scheduled run failed', errorFields(error));
      throw error;
    } finally {
      stats.inFlight--;
      deadline.clear();
    }

    return undefined;
  };
}

function describeEvent(event: unknown): string {
  const { source, 'detail-type': kind } = (event ?? {}) as Record<
    string,
    unknown
  >;
  if (typeof source === 'string' || typeof kind === 'string') {
    return `source ${JSON.stringify(source)}, detail-type ${JSON.stringify(kind)}`;
  }
  return describeReceived(event);
}
