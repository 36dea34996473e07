/**
 * One invocation's view of the function's delivery settings: the
 * subscription policy with its lease bounded by the time the invocation
 * has left, the handler wrapped to receive the local runner's context,
 * and the deadline past which nothing new starts.
 */
import type { Context } from 'aws-lambda';
import type { Handler } from '../../core/channel.ts';
import { resolveCodec } from '../../core/codecs.ts';
import type { IdempotencyStore } from '../../core/provider.ts';
import { createDecoder, type MessageDecoder } from '../../delivery/decode.ts';
import { describeError } from '../../delivery/errors.ts';
import {
  resolveSubscribeOptions,
  type SubscribePolicy,
} from '../../delivery/policy.ts';
import type { DeliveryEnv } from '../../delivery/settle.ts';
import type { FunctionContext } from '../types.ts';
import type { ResolvedLambdaOptions } from './options.ts';
import type { LambdaRuntime } from './runtime.ts';

/** The deadline of one invocation. */
export interface Deadline {
  /** Aborted at the deadline; the handler's `context.signal`. */
  readonly signal: AbortSignal;
  /** Ms since the epoch at which nothing new starts, or Infinity. */
  readonly at: number;
  /** Clears the timer. */
  clear(): void;
}

/**
 * The deadline of an invocation: the Lambda context's remaining time
 * less the safety margin. Without `getRemainingTimeInMillis` (a test, a
 * container), there is none.
 */
export function invocationDeadline(
  context: Partial<Context> | undefined,
  safetyMarginMs: number,
): Deadline {
  const aborting = new AbortController();
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) {
    return { signal: aborting.signal, at: Infinity, clear: () => {} };
  }
  const leftMs = Math.max(0, remaining - safetyMarginMs);
  const timer = setTimeout(() => aborting.abort(), leftMs);
  timer.unref();

  return {
    signal: aborting.signal,
    at: Date.now() + leftMs,
    clear: () => clearTimeout(timer),
  };
}

/** The delivery settings of a channel function, resolved once. */
export interface ChannelSetup {
  policy: SubscribePolicy;
  decode: MessageDecoder<unknown>;
}

/** Resolves the function's subscription policy and its decoder. */
export function channelSetup(
  runtime: LambdaRuntime,
  options: ResolvedLambdaOptions,
): ChannelSetup {
  const { fn, pipeline } = runtime;
  const { trigger } = fn;
  if (trigger.type !== 'channel' && trigger.type !== 'broadcast') {
    throw new TypeError(`function '${fn.name}' has no channel trigger`);
  }
  // A Lambda function is one consumer however many instances run it, so
  // a broadcast function consumes under its own name.
  const group = trigger.type === 'channel' ? trigger.group : fn.name;
  const policy = resolveSubscribeOptions(
    {
      group,
      ...(fn.guarantee !== undefined && { guarantee: fn.guarantee }),
      ...(fn.maxAttempts !== undefined && { maxAttempts: fn.maxAttempts }),
      ...(fn.backoff !== undefined && { backoff: fn.backoff }),
      ...(fn.leaseMs !== undefined && { leaseMs: fn.leaseMs }),
      ...(fn.concurrency !== undefined && { concurrency: fn.concurrency }),
      idempotency: options.idempotency,
    },
    runtime.capabilities,
  );
  const declaration = pipeline.channels[trigger.channel];

  return {
    policy,
    decode: createDecoder(
      resolveCodec(declaration?.codec, `channels.${trigger.channel}.codec`),
      declaration?.schema,
    ),
  };
}

/**
 * The environment the core delivery processing runs in for one
 * invocation. The lease of an exactly-once record ends at the deadline,
 * so that a record left by an invocation that timed out can be taken
 * over by the next delivery.
 */
export function deliveryEnv(
  runtime: LambdaRuntime,
  setup: ChannelSetup,
  invocation: {
    deadline: Deadline;
    store: IdempotencyStore | undefined;
    canExtend: boolean;
    /** Receives why the handler failed on a message, by message id. */
    errors: Map<string, string>;
  },
): DeliveryEnv<unknown> {
  const { deadline, store } = invocation;
  const leftMs = deadline.at - Date.now();
  const leaseMs = Math.max(1, Math.min(setup.policy.leaseMs, leftMs));

  return {
    policy: { ...setup.policy, leaseMs },
    handler: functionHandler(runtime, invocation.errors),
    decode: setup.decode,
    ...(store !== undefined && { store }),
    logger: runtime.logger,
    stats: runtime.stats,
    signal: deadline.signal,
    canExtend: invocation.canExtend,
  };
}

/** Runs the function's handler with the context the local runner gives. */
function functionHandler(
  runtime: LambdaRuntime,
  errors: Map<string, string>,
): Handler<unknown> {
  const { fn } = runtime;
  return async (message, context) => {
    runtime.stats.runs++;
    const fnContext: FunctionContext = {
      name: fn.name,
      attempt: context.attempt,
      signal: context.signal,
      logger: context.logger,
      extendLease: (ms) => context.extendLease(ms),
      switchyard: runtime.client,
      stats: runtime.pipelineStats,
    };
    try {
      return await fn.handler(message, fnContext);
    } catch (error) {
      errors.set(message.id, describeError(error));
      throw error;
    }
  };
}
