/**
 * Exactly-once processing: at-least-once delivery plus a record per
 * (group, message id) in the idempotency table.
 *
 * For each delivery a fresh owner id tries to begin the record with a lease
 * as long as the subscription's. If it acquires, the handler runs, the
 * record is completed with the JSON of the result, then the delivery is
 * acknowledged. A completed record means a duplicate: it is acknowledged
 * without running the handler. A record another owner holds is asked for
 * again once that lease lapses. A failed handler releases the record and is
 * retried or dead-lettered as under at-least-once. A run that outlived its
 * lease while another delivery of the message took the record over has
 * its result dropped and leaves its own delivery unsettled, so that the
 * run holding the record settles the message, retried if it fails.
 *
 * A handler that crashes after its side effects but before the record is
 * completed runs again once the lease lapses: only side effects written to
 * the same store in the same transaction as the record are exactly once.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Message } from '../core/message.ts';
import type { IdempotencyStore, TransportDelivery } from '../core/provider.ts';
import { type Backoff, backoffDelay } from './backoff.ts';
import { errorFields } from './errors.ts';
import {
  ack,
  type DeliveryEnv,
  type Job,
  nak,
  runHandler,
  settleFailure,
} from './settle.ts';
import { sleep } from './sleep.ts';

/** Pauses between attempts to complete a record. */
const COMPLETE_BACKOFF: Backoff = {
  initialDelayMs: 50,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter: 'full',
};

/**
 * The record id of `messageId` handled by `group`: `{group}#{messageId}`.
 *
 * @example
 * idempotencyKey('indexer', 'evt-1'); // 'indexer#evt-1'
 */
export function idempotencyKey(group: string, messageId: string): string {
  return `${group}#${messageId}`;
}

/**
 * The JSON stored as a record's result: undefined for an undefined result,
 * and undefined (with a warning) for one that has no JSON form.
 */
export function serializeResult(
  value: unknown,
  log: Logger,
): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    log.warn('handler result is not JSON-serialisable; stored without it', {
      ...errorFields(error),
    });
    return undefined;
  }
}

/** Processes one decoded delivery under exactly-once. */
export async function processExactlyOnce<T>(
  message: Message<T>,
  delivery: TransportDelivery,
  env: DeliveryEnv<T> & { store: IdempotencyStore },
  job: Job,
  log: Logger,
): Promise<void> {
  const { store, policy } = env;
  const id = idempotencyKey(policy.name, message.id);
  const owner = randomUUID();

  let outcome: Awaited<ReturnType<IdempotencyStore['begin']>>;
  try {
    outcome = await store.begin(id, {
      owner,
      leaseMs: policy.leaseMs,
      ttlMs: policy.idempotencyTtlMs,
    });
  } catch (error) {
    log.warn('could not begin the idempotency record, retrying', {
      ...errorFields(error),
    });
    env.stats.retried++;
    await nak(delivery, backoffDelay(delivery.attempt, policy.backoff), log);
    return;
  }

  if (outcome.status === 'completed') {
    env.stats.duplicates++;
    log.debug('duplicate acknowledged without running the handler');
    job.release?.();
    await ack(delivery, log);
    return;
  }
  if (outcome.status === 'in-progress') {
    const delayMs = Math.max(0, outcome.until - Date.now());
    log.debug('message is being handled elsewhere, retrying after its lease', {
      delayMs,
    });
    await nak(delivery, delayMs, log);
    return;
  }

  // The record is this owner's until its lease lapses: completing it is
  // retried until then, so that a store that is down for a moment does not
  // make the handler run twice.
  let heldUntil = Date.now() + policy.leaseMs;
  const result = await runHandler(message, delivery, env, log, async (ms) => {
    await store.extend(id, { owner, leaseMs: ms });
    heldUntil = Math.max(heldUntil, Date.now() + ms);
  });
  if (job.abandoned) return;

  if (!result.ok) {
    await release(store, id, owner, log);
    await settleFailure(delivery, result.error, env, log);
    return;
  }

  const completed = await complete(store, id, owner, result.value, env, {
    log,
    job,
    heldUntil,
  });
  if (completed === 'failed') {
    env.stats.retried++;
    await nak(delivery, backoffDelay(delivery.attempt, policy.backoff), log);
    return;
  }
  if (completed === 'lost') {
    // Another delivery of the message holds the record now, and settles
    // the message: acknowledging this stale delivery could take the
    // message off under it (transports acknowledge by message), and a
    // failure of that run would then never be retried. This delivery is
    // left to lapse; if it comes back, the record decides.
    return;
  }
  env.stats.succeeded++;
  job.release?.();
  await ack(delivery, log);
}

/**
 * Completes the record, retrying a failed write with backoff while the
 * lease is held: `written` once it is, `failed` when it could not be
 * written in time, so the delivery is asked for again, and `lost` when
 * the lease was lost (someone else took the record over after it lapsed),
 * so that owner's delivery settles the message.
 */
async function complete<T>(
  store: IdempotencyStore,
  id: string,
  owner: string,
  value: unknown,
  env: DeliveryEnv<T>,
  context: { log: Logger; job: Job; heldUntil: number },
): Promise<'written' | 'failed' | 'lost'> {
  const { log, job, heldUntil } = context;
  const data = serializeResult(value, log);
  for (let failures = 1; ; failures++) {
    try {
      await store.complete(id, {
        owner,
        ttlMs: env.policy.idempotencyTtlMs,
        ...(data !== undefined && { data }),
      });
      return 'written';
    } catch (error) {
      if (error instanceof ConflictError) {
        log.warn(
          'idempotency lease lapsed before the handler finished; its result is dropped and the run holding the record settles the message',
          { ...errorFields(error) },
        );
        return 'lost';
      }
      const pause = backoffDelay(failures, COMPLETE_BACKOFF);
      const retry = !job.abandoned && Date.now() + pause < heldUntil;
      log.warn('could not complete the idempotency record', {
        retrying: retry,
        failures,
        ...errorFields(error),
      });
      if (!retry) return 'failed';
      await sleep(pause);
    }
  }
}

async function release(
  store: IdempotencyStore,
  id: string,
  owner: string,
  log: Logger,
): Promise<void> {
  try {
    await store.release(id, { owner });
  } catch (error) {
    log.warn(
      'could not release the idempotency record; it lapses with its lease',
      {
        ...errorFields(error),
      },
    );
  }
}
