/**
 * Processing of one delivery of a push subscription, under its guarantee.
 *
 * Before the handler runs, a delivery whose attempt count is over
 * `maxAttempts` (its lease kept expiring, e.g. its consumers crashed) and
 * one that cannot be decoded or fails the schema are dead-lettered with the
 * reason. Then:
 *
 * - at-most-once acknowledges and runs the handler; a failure is logged and
 *   the message is dropped;
 * - at-least-once runs the handler and acknowledges once it returns; a
 *   failure is retried with backoff or dead-lettered (`settleFailure`);
 * - exactly-once adds the idempotency record (`idempotency.ts`).
 */
import type { TransportDelivery } from '../core/provider.ts';
import { errorFields } from './errors.ts';
import { processExactlyOnce } from './idempotency.ts';
import {
  ack,
  type DeliveryEnv,
  deadLetter,
  type Job,
  runHandler,
  settleFailure,
} from './settle.ts';

/** Processes one delivery; never rejects. */
export async function processDelivery<T>(
  delivery: TransportDelivery,
  env: DeliveryEnv<T>,
  job: Job,
): Promise<void> {
  const { policy, stats } = env;
  const log = env.logger.child({
    messageId: delivery.message.id,
    attempt: delivery.attempt,
  });
  stats.delivered++;
  log.debug('delivery received');

  if (delivery.attempt > policy.maxAttempts) {
    const reason = `delivered ${delivery.attempt} times, over the limit of ${policy.maxAttempts} attempts, without being acknowledged`;
    await deadLetter(delivery, reason, stats, log);
    return;
  }
  const decoded = await env.decode(delivery.message);
  if (!decoded.ok) {
    await deadLetter(delivery, decoded.reason, stats, log);
    return;
  }
  const { message } = decoded;

  if (policy.guarantee === 'exactly-once' && env.store !== undefined) {
    await processExactlyOnce(
      message,
      delivery,
      { ...env, store: env.store },
      job,
      log,
    );
    return;
  }

  if (policy.guarantee === 'at-most-once') {
    if (!(await ack(delivery, log))) return;
    const result = await runHandler(message, delivery, env, log);
    if (result.ok) {
      stats.succeeded++;
      log.debug('message handled');
    } else {
      stats.failed++;
      log.error('handler failed; message dropped under at-most-once', {
        ...errorFields(result.error),
      });
    }
    return;
  }

  const result = await runHandler(message, delivery, env, log);
  if (job.abandoned) return;
  if (!result.ok) {
    await settleFailure(delivery, result.error, env, log);
    return;
  }
  stats.succeeded++;
  log.debug('message handled');
  job.release?.();
  await ack(delivery, log);
}
