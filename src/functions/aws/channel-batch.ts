/**
 * The records of an SQS or SNS event for a channel function: read each
 * one, open what the function's guarantee needs, and run the batch, with
 * the runtime's claim check when it has one.
 */
import type { Context } from 'aws-lambda';
import { runBatch } from './batch.ts';
import type { BatchItem } from './batch-item.ts';
import {
  type ChannelSetup,
  channelSetup,
  deliveryEnv,
  invocationDeadline,
} from './invocation.ts';
import type { ResolvedLambdaOptions } from './options.ts';
import type { RecordOutcome } from './record-delivery.ts';
import type { LambdaRuntime } from './runtime.ts';
import { createVisibility, type Visibility } from './visibility.ts';

/** Reads record `index` of an event into an item. Never throws. */
export type RecordReader = (
  record: unknown,
  index: number,
  channel: string,
) => BatchItem;

/** Processes batches of one channel function on a runtime. */
export type ChannelBatchProcessor = (
  records: readonly unknown[],
  read: RecordReader,
  context: Partial<Context> | undefined,
) => Promise<RecordOutcome[]>;

/**
 * The batch processor of the function of `runtime()`. The runtime, the
 * policy and the idempotency table are set up on the first batch and
 * kept.
 */
export function channelBatchProcessor(
  runtime: () => Promise<LambdaRuntime>,
  options: ResolvedLambdaOptions,
): ChannelBatchProcessor {
  const visibility: Visibility | undefined =
    options.sqs !== undefined ? createVisibility(options.sqs) : undefined;
  const setups = new WeakMap<LambdaRuntime, ChannelSetup>();

  return async (records, read, context) => {
    const current = await runtime();
    let setup = setups.get(current);
    if (setup === undefined) {
      setup = channelSetup(current, options);
      setups.set(current, setup);
    }
    const { policy } = setup;
    const trigger = current.fn.trigger as { channel: string };
    const items = records.map((record, index) =>
      read(record, index, trigger.channel),
    );
    const store =
      policy.guarantee === 'exactly-once'
        ? await current.idempotency(policy.idempotencyTable)
        : undefined;
    const deadline = invocationDeadline(context, options.safetyMarginMs);

    const errors = new Map<string, string>();
    try {
      const env = deliveryEnv(current, setup, {
        deadline,
        store,
        canExtend: visibility !== undefined,
        errors,
      });
      const outcomes = await runBatch(items, {
        env,
        ports: {
          channel: trigger.channel,
          group: policy.name,
          channels: current.channels,
          visibility,
          logger: current.logger,
        },
        deadline,
        concurrency: policy.concurrency,
        ...(current.claimCheck !== undefined && {
          claimCheck: current.claimCheck,
        }),
      });
      outcomes.forEach((outcome, index) => {
        if (outcome.status === 'failed') {
          outcome.reason ??= errors.get(items[index]!.wire.id);
        }
      });
      logFailures(current, outcomes);
      return outcomes;
    } finally {
      deadline.clear();
    }
  };
}

function logFailures(runtime: LambdaRuntime, outcomes: RecordOutcome[]) {
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length === 0) return;
  runtime.logger.debug('records reported failed', {
    failed: failed.length,
    of: outcomes.length,
    messageIds: failed.map((o) => o.id ?? '(none)'),
  });
}
