/**
 * The push subscription: a fetch loop that feeds deliveries to the handler
 * under a concurrency limit, and its graceful shutdown.
 *
 * The loop fetches up to `batchSize` deliveries (long polling for
 * `waitMs`), starts handlers while fewer than `concurrency` run, and
 * fetches again once every fetched delivery has started and a handler slot
 * is free. A transport error while opening or fetching is logged as a
 * warning and retried after a backoff delay; it never ends the loop.
 *
 * `close()` stops fetching, returns fetched deliveries that have not
 * started at once (`nak(0)`), waits for running handlers up to its
 * deadline, then aborts their signal and settles nothing for them, so their
 * messages are delivered again.
 */
import { type Capabilities, supports } from '../core/capabilities.ts';
import type {
  Handler,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
} from '../core/channel.ts';
import type { Logger } from '../core/logger.ts';
import { durationOption } from '../core/options.ts';
import type {
  ConsumerSpec,
  IdempotencyStore,
  TransportConsumer,
  TransportDelivery,
} from '../core/provider.ts';
import { settledWithin } from '../core/waiting.ts';
import { backoffDelay } from './backoff.ts';
import type { MessageDecoder } from './decode.ts';
import { errorFields } from './errors.ts';
import { resolveSubscribeOptions, type SubscribePolicy } from './policy.ts';
import { processDelivery } from './process.ts';
import type { DeliveryEnv, Job } from './settle.ts';
import { nak } from './settle.ts';
import { sleep } from './sleep.ts';

/** Default of `close({ timeoutMs })`. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** What a push subscription is built from. */
export interface SubscriptionSetup<T> {
  channel: string;
  handler: Handler<T>;
  options: SubscribeOptions;
  /** Capabilities of the channel's provider. */
  capabilities: Capabilities;
  decode: MessageDecoder<T>;
  logger: Logger;
  /** Ensures the channel exists and opens the consumer. */
  open(spec: ConsumerSpec): Promise<TransportConsumer>;
  /** Opens the idempotency table; required under exactly-once. */
  openIdempotency?: (table: string) => Promise<IdempotencyStore>;
  /** Called once the subscription has closed. */
  onClosed?: () => void;
}

/**
 * Starts a push subscription. Options are resolved and checked at once
 * (`ConfigurationError`, `CapabilityError`); the consumer is opened in the
 * background, retrying while the transport is unavailable.
 *
 * @example
 * const subscription = subscribe({ channel: 'kv-events', handler, options:
 *   { group: 'indexer' }, capabilities, decode, logger, open });
 * await subscription.close();
 */
export function subscribe<T>(setup: SubscriptionSetup<T>): Subscription {
  const policy = resolveSubscribeOptions(setup.options, setup.capabilities);
  if (policy.guarantee === 'exactly-once' && !setup.openIdempotency) {
    throw new TypeError('exactly-once needs an idempotency table to open');
  }

  return new PushSubscription(setup, policy);
}

class PushSubscription<T> implements Subscription {
  readonly group: string;
  readonly stats: SubscriptionStats = {
    delivered: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
    inFlight: 0,
  };

  readonly #setup: SubscriptionSetup<T>;
  readonly #policy: SubscribePolicy;
  readonly #logger: Logger;
  readonly #stopFetching = new AbortController();
  readonly #abortHandlers = new AbortController();
  readonly #buffer: TransportDelivery[] = [];
  readonly #running = new Map<Promise<void>, Job>();
  /** Deliveries holding a concurrency slot: started, not yet released. */
  #busy = 0;
  readonly #loop: Promise<void>;
  #env: DeliveryEnv<T> | undefined;
  #consumer: TransportConsumer | undefined;
  #stopping = false;
  #closing: Promise<void> | undefined;
  #changed: (() => void) | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };

  constructor(setup: SubscriptionSetup<T>, policy: SubscribePolicy) {
    this.#setup = setup;
    this.#policy = policy;
    this.group = policy.name;
    this.#logger = setup.logger.child({
      channel: setup.channel,
      group: policy.name,
    });

    this.#loop = this.#run().catch((error: unknown) => {
      this.#logger.error('subscription loop stopped', errorFields(error));
    });

    const { signal } = setup.options;
    if (signal?.aborted) void this.close();
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing === undefined) {
      let timeoutMs: number;
      try {
        timeoutMs = durationOption(
          options.timeoutMs,
          DEFAULT_CLOSE_TIMEOUT_MS,
          'close.timeoutMs',
        );
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closing = this.#shutdown(timeoutMs);
    }
    return this.#closing;
  }

  async #run(): Promise<void> {
    const consumer = await this.#open();
    if (consumer === undefined) return;
    this.#logger.info('subscription started', {
      guarantee: this.#policy.guarantee,
      concurrency: this.#policy.concurrency,
    });

    const refillAt = Math.floor(this.#policy.batchSize / 2);
    let failures = 0;
    while (!this.#stopping) {
      while (!this.#stopping && this.#busy >= this.#policy.concurrency) {
        await this.#nextChange();
      }
      if (this.#stopping) break;

      let deliveries: TransportDelivery[];
      try {
        deliveries = await consumer.fetch(this.#policy.batchSize, {
          waitMs: this.#policy.waitMs,
          signal: this.#stopFetching.signal,
          prefetch: true,
        });
        failures = 0;
      } catch (error) {
        if (this.#stopping) break;
        failures++;
        this.#logger.warn('fetch failed, retrying', {
          failures,
          ...errorFields(error),
        });
        await sleep(this.#retryDelay(failures), this.#stopFetching.signal);
        continue;
      }

      if (deliveries.length === 0) {
        // A transport that answers an empty fetch at once must not starve
        // the event loop: let timers and I/O run before fetching again.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!supports(this.#setup.capabilities, 'delayedRetry')) {
        deliveries = deliveries.map((d) =>
          holdingRetries(d, this.#stopFetching.signal),
        );
      }
      this.#buffer.push(...deliveries);
      this.#pump();
      // The next fetch starts when half a batch is left, so that handlers
      // have work while the transport answers it.
      while (!this.#stopping && this.#buffer.length > refillAt) {
        await this.#nextChange();
      }
    }
  }

  /** Opens the idempotency table and the consumer, retrying on failure. */
  async #open(): Promise<TransportConsumer | undefined> {
    const policy = this.#policy;
    const spec: ConsumerSpec = {
      channel: this.#setup.channel,
      mode: policy.mode,
      name: policy.name,
      leaseMs: policy.leaseMs,
      maxAttempts: policy.maxAttempts,
    };

    let failures = 0;
    while (!this.#stopping) {
      try {
        const store =
          policy.guarantee === 'exactly-once'
            ? await this.#setup.openIdempotency?.(policy.idempotencyTable)
            : undefined;
        const consumer = await this.#setup.open(spec);
        if (this.#stopping) {
          await consumer.close();
          return undefined;
        }
        this.#consumer = consumer;
        this.#env = this.#createEnv(store);
        return consumer;
      } catch (error) {
        failures++;
        this.#logger.warn('could not open the consumer, retrying', {
          failures,
          ...errorFields(error),
        });
        await sleep(this.#retryDelay(failures), this.#stopFetching.signal);
      }
    }
    return undefined;
  }

  #createEnv(store: IdempotencyStore | undefined): DeliveryEnv<T> {
    return {
      policy: this.#policy,
      handler: this.#setup.handler,
      decode: this.#setup.decode,
      ...(store !== undefined && { store }),
      logger: this.#logger,
      stats: this.stats,
      signal: this.#abortHandlers.signal,
      canExtend: supports(this.#setup.capabilities, 'extendLease'),
    };
  }

  /** Starts handlers while slots are free and deliveries wait. */
  #pump(): void {
    const env = this.#env;
    if (env === undefined) return;
    while (
      !this.#stopping &&
      this.#buffer.length > 0 &&
      this.#busy < this.#policy.concurrency
    ) {
      const delivery = this.#buffer.shift()!;
      let holding = true;
      const release = (): void => {
        if (!holding) return;
        holding = false;
        this.#busy--;
        this.#pump();
        this.#notify();
      };
      const job: Job = { abandoned: false, release };
      this.#busy++;
      this.stats.inFlight++;
      const run = processDelivery(delivery, env, job)
        .catch((error: unknown) => {
          this.#logger.error('delivery processing failed', errorFields(error));
        })
        .finally(() => {
          this.#running.delete(run);
          this.stats.inFlight--;
          release();
          this.#notify();
        });
      this.#running.set(run, job);
    }
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#setup.options.signal?.removeEventListener('abort', this.#onAbort);
    this.#stopping = true;
    this.#stopFetching.abort();
    this.#notify();
    await this.#loop;

    const unstarted = this.#buffer.splice(0);
    await Promise.all(unstarted.map((d) => nak(d, 0, this.#logger)));

    const finished = await settledWithin([...this.#running.keys()], timeoutMs);
    if (!finished) {
      for (const job of this.#running.values()) job.abandoned = true;
      this.#logger.warn(
        'handlers still running at the close deadline were aborted; their messages will be delivered again',
        { running: this.#running.size, timeoutMs },
      );
      this.#abortHandlers.abort();
    }

    try {
      await this.#consumer?.close();
    } catch (error) {
      this.#logger.warn('could not close the consumer', errorFields(error));
    }
    this.#setup.onClosed?.();
    this.#logger.info('subscription closed', { ...this.stats });
  }

  #retryDelay(failures: number): number {
    const { backoff } = this.#policy;
    return Math.max(backoff.initialDelayMs, backoffDelay(failures, backoff));
  }

  /** Resolves at the next finished handler or at close. */
  #nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#changed;
      this.#changed = () => {
        previous?.();
        resolve();
      };
    });
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.();
  }
}

/**
 * On a transport that cannot delay a redelivery, a retry after a delay is
 * emulated: the delivery is kept (its lease extended where possible) until
 * the delay has passed, then returned at once. Closing cuts the wait short.
 */
function holdingRetries(
  delivery: TransportDelivery,
  signal: AbortSignal,
): TransportDelivery {
  return {
    message: delivery.message,
    attempt: delivery.attempt,
    channelSequence: delivery.channelSequence,
    ack: () => delivery.ack(),
    extend: (leaseMs) => delivery.extend(leaseMs),
    deadLetter: (reason) => delivery.deadLetter(reason),
    async nak(delayMs) {
      if (delayMs > 0) {
        await delivery.extend(delayMs + 1000).catch(() => undefined);
        await sleep(delayMs, signal);
      }
      await delivery.nak(0);
    },
  };
}
