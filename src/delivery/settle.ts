/**
 * The steps every guarantee shares: running the handler, and settling a
 * delivery (acknowledge, retry later, dead-letter). A transport failure
 * while settling is logged, never thrown: the delivery's lease then
 * expires and the message comes back, which is the at-least-once promise.
 */
import type {
  Handler,
  HandlerContext,
  SubscriptionStats,
} from '../core/channel.ts';
import {
  CapabilityError,
  PermanentError,
  RetryLaterError,
} from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Message } from '../core/message.ts';
import type { IdempotencyStore, TransportDelivery } from '../core/provider.ts';
import { backoffDelay } from './backoff.ts';
import type { MessageDecoder } from './decode.ts';
import { describeError, errorFields } from './errors.ts';
import type { SubscribePolicy } from './policy.ts';

/** What processing a delivery needs from its subscription. */
export interface DeliveryEnv<T> {
  policy: SubscribePolicy;
  handler: Handler<T>;
  decode: MessageDecoder<T>;
  /** The idempotency table; set under exactly-once. */
  store?: IdempotencyStore;
  logger: Logger;
  stats: SubscriptionStats;
  /** Aborted when the subscription closes past its deadline. */
  signal: AbortSignal;
  /** Whether the transport can extend a lease; see `extendLease`. */
  canExtend: boolean;
}

/**
 * One delivery being processed. Set `abandoned` when the subscription gave
 * up waiting for it: nothing is then acknowledged or recorded for it.
 */
export interface Job {
  abandoned: boolean;
  /**
   * Gives the delivery's concurrency slot to the next one once its
   * outcome is decided and only the acknowledgement is left to send, so
   * that the transport's round trip does not hold the slot.
   */
  release?(): void;
}

/** What the handler did. */
export type HandlerOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: unknown };

/**
 * Runs the handler on `message`, catching what it throws. `onExtend` runs
 * after the transport lease is extended (exactly-once extends its record).
 */
export async function runHandler<T>(
  message: Message<T>,
  delivery: TransportDelivery,
  env: DeliveryEnv<T>,
  log: Logger,
  onExtend?: (ms: number) => Promise<void>,
): Promise<HandlerOutcome> {
  const context: HandlerContext = {
    attempt: delivery.attempt,
    group: env.policy.name,
    signal: env.signal,
    logger: log,
    async extendLease(ms = env.policy.leaseMs) {
      if (!env.canExtend) {
        throw new CapabilityError(
          'extendLease is not supported by the provider of this channel',
          { feature: 'extendLease' },
        );
      }
      await delivery.extend(ms);
      await onExtend?.(ms);
    },
  };

  try {
    return { ok: true, value: await env.handler(message, context) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Acknowledges; returns whether the transport took it. */
export async function ack(
  delivery: TransportDelivery,
  log: Logger,
): Promise<boolean> {
  try {
    await delivery.ack();
    return true;
  } catch (error) {
    log.warn('could not acknowledge; the message will be delivered again', {
      ...errorFields(error),
    });
    return false;
  }
}

/** Makes the message deliverable again after `delayMs`. */
export async function nak(
  delivery: TransportDelivery,
  delayMs: number,
  log: Logger,
): Promise<void> {
  try {
    await delivery.nak(delayMs);
  } catch (error) {
    log.warn(
      'could not return the message; it comes back when its lease expires',
      {
        delayMs,
        ...errorFields(error),
      },
    );
  }
}

/** Dead-letters with `reason` and logs it as an error. */
export async function deadLetter(
  delivery: TransportDelivery,
  reason: string,
  stats: SubscriptionStats,
  log: Logger,
): Promise<void> {
  try {
    await delivery.deadLetter(reason);
  } catch (error) {
    log.warn('could not dead-letter; the message will be delivered again', {
      reason,
      ...errorFields(error),
    });
    return;
  }

  stats.deadLettered++;
  log.error('message dead-lettered', { reason });
}

/**
 * Settles a delivery whose handler failed: a `PermanentError`, or a failure
 * on attempt `maxAttempts` or later, dead-letters it with a reason naming
 * the error and the attempt; a `RetryLaterError` asks for it again after
 * its delay; anything else after the backoff delay of this attempt.
 */
export async function settleFailure<T>(
  delivery: TransportDelivery,
  error: unknown,
  env: DeliveryEnv<T>,
  log: Logger,
): Promise<void> {
  const { attempt } = delivery;
  const { maxAttempts } = env.policy;
  const retryLater = error instanceof RetryLaterError;
  if (!retryLater) env.stats.failed++;

  if (error instanceof PermanentError) {
    const reason = `handler failed permanently on attempt ${attempt}: ${describeError(error)}`;
    await deadLetter(delivery, reason, env.stats, log);
    return;
  }
  if (attempt >= maxAttempts) {
    const reason = `handler failed on attempt ${attempt} of ${maxAttempts}: ${describeError(error)}`;
    await deadLetter(delivery, reason, env.stats, log);
    return;
  }

  const delayMs = retryLater
    ? Math.max(0, error.delayMs)
    : backoffDelay(attempt, env.policy.backoff);
  env.stats.retried++;
  log.debug(
    retryLater ? 'retry asked by the handler' : 'handler failed, retrying',
    {
      delayMs,
      ...errorFields(error),
    },
  );
  await nak(delivery, delayMs, log);
}
