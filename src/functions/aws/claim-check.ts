/**
 * Claim-check references in the records of a Lambda batch. A record
 * whose message carries a reference reaches the core with its original
 * body and content type, read from the claim check's bucket with its
 * size and digest checked, by the resolution the client's consumers use.
 *
 * Nothing is removed from the bucket here. Lambda deletes an SQS message
 * only once the batch response is back, and a record reported failed,
 * or one of an invocation that timed out, comes back and needs its
 * object again; an object read in an invocation is left to the bucket's
 * expiry rule (the lifecycle rule the CDK app declares for the prefix).
 */
import { ConfigurationError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { WireMessage } from '../../core/message.ts';
import type { Provider, TransportDelivery } from '../../core/provider.ts';
import { backoffDelay } from '../../delivery/backoff.ts';
import {
  bucketTarget,
  type Resolution,
  type ResolveTarget,
  resolveReference,
} from '../../delivery/claim-check-consumer.ts';
import {
  type ClaimCheckSetting,
  resolveClaimCheck,
} from '../../delivery/claim-check-options.ts';
import { isReference } from '../../delivery/claim-check-reference.ts';
import { type DeliveryEnv, deadLetter, nak } from '../../delivery/settle.ts';

/** A reference that could not be resolved, and why. */
export type Unresolved = Extract<Resolution, { ok: false }>;

/**
 * Where the references of `setting` are resolved, on the objects
 * provider `objects`. The bucket is opened, not created, on the first
 * reference: the stack declares it, and a function needs no right to
 * create it. Throws a ConfigurationError naming the field for a bad
 * setting, and one naming `parts.objects` when the provider offers no
 * object buckets.
 */
export function claimCheckTarget(
  setting: ClaimCheckSetting,
  objects: Provider,
): ResolveTarget {
  const { bucket, prefix } = resolveClaimCheck(setting);
  if (objects.objects === undefined) {
    throw new ConfigurationError(
      `claimCheck needs object buckets, and provider '${objects.name}' of the objects part offers none: choose one that does for the 'objects' part`,
      { field: 'parts.objects', value: objects.name },
    );
  }

  return bucketTarget(objects.objects, bucket, prefix, { create: false });
}

/**
 * The resolution of `message` when it carries a reference and there is
 * a claim check to resolve it; undefined otherwise (a reference with no
 * claim check is then refused by the decoder with its own reason).
 */
export function resolveRecord(
  message: WireMessage,
  target: ResolveTarget | undefined,
): Promise<Resolution> | undefined {
  if (target === undefined || !isReference(message)) return undefined;
  return resolveReference(message, target);
}

/**
 * Settles a delivery whose reference could not be resolved. A store
 * failure that may pass is retried with the subscription's backoff
 * while attempts are left; anything else (a missing or corrupt object,
 * a malformed reference, a retryable failure on the last attempt) is
 * dead-lettered with the reason, which names the bucket and the key.
 */
export async function settleUnresolved(
  delivery: TransportDelivery,
  unresolved: Unresolved,
  env: DeliveryEnv<unknown>,
  log: Logger,
): Promise<void> {
  const { attempt } = delivery;
  const { maxAttempts } = env.policy;
  env.stats.delivered++;

  if (unresolved.retryable === true && attempt < maxAttempts) {
    const delayMs = backoffDelay(attempt, env.policy.backoff);
    env.stats.failed++;
    env.stats.retried++;
    log.warn('claim-check object could not be read; retrying', {
      reason: unresolved.reason,
      delayMs,
    });
    await nak(delivery, delayMs, log);
    return;
  }
  const reason =
    unresolved.retryable === true
      ? `${unresolved.reason} (attempt ${attempt} of ${maxAttempts})`
      : unresolved.reason;
  await deadLetter(delivery, reason, env.stats, log);
}
