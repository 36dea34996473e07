/**
 * The pull consumer: the application fetches deliveries and settles each
 * itself. Like a push subscription it dead-letters, without returning
 * them, deliveries over the attempt limit and those that fail to decode or
 * to validate, so that the caller only ever sees good messages.
 */
import type { Capabilities } from '../core/capabilities.ts';
import { supports } from '../core/capabilities.ts';
import type {
  ConsumerOptions,
  Delivery,
  PullConsumer,
} from '../core/channel.ts';
import { CapabilityError, ClosedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Message } from '../core/message.ts';
import { durationOption, integerOption } from '../core/options.ts';
import type {
  ConsumerSpec,
  TransportConsumer,
  TransportDelivery,
} from '../core/provider.ts';
import type { MessageDecoder } from './decode.ts';
import { errorFields } from './errors.ts';
import {
  type ConsumerPolicy,
  DEFAULT_WAIT_MS,
  resolveConsumerOptions,
} from './policy.ts';

/** What a pull consumer is built from. */
export interface PullConsumerSetup<T> {
  channel: string;
  options: ConsumerOptions;
  capabilities: Capabilities;
  decode: MessageDecoder<T>;
  logger: Logger;
  /** Ensures the channel exists and opens the consumer. */
  open(spec: ConsumerSpec): Promise<TransportConsumer>;
  /** Called once the consumer has closed. */
  onClosed?: () => void;
}

/**
 * Opens a pull consumer. Options are checked first (`ConfigurationError`,
 * `CapabilityError` for broadcast on a provider without it).
 *
 * @example
 * const consumer = await openPullConsumer({ channel: 'kv-events',
 *   options: { group: 'snapshot' }, capabilities, decode, logger, open });
 * for (const delivery of await consumer.fetch(10)) await delivery.ack();
 */
export async function openPullConsumer<T>(
  setup: PullConsumerSetup<T>,
): Promise<PullConsumer<T>> {
  const policy = resolveConsumerOptions(setup.options, setup.capabilities);
  const consumer = await setup.open({
    channel: setup.channel,
    mode: policy.mode,
    name: policy.name,
    leaseMs: policy.leaseMs,
    maxAttempts: policy.maxAttempts,
  });

  return new Puller(setup, policy, consumer);
}

class Puller<T> implements PullConsumer<T> {
  readonly group: string;
  readonly #setup: PullConsumerSetup<T>;
  readonly #policy: ConsumerPolicy;
  readonly #consumer: TransportConsumer;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(
    setup: PullConsumerSetup<T>,
    policy: ConsumerPolicy,
    consumer: TransportConsumer,
  ) {
    this.group = policy.name;
    this.#setup = setup;
    this.#policy = policy;
    this.#consumer = consumer;
    this.#logger = setup.logger.child({
      channel: setup.channel,
      group: policy.name,
    });
  }

  async fetch(
    max: number,
    options: { waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<Delivery<T>[]> {
    if (this.#closing !== undefined) {
      throw new ClosedError(`consumer '${this.group}' is closed`);
    }
    const count = integerOption(max, 1, 'fetch.max');
    const waitMs = durationOption(
      options.waitMs,
      DEFAULT_WAIT_MS,
      'fetch.waitMs',
    );

    const fetched = await this.#consumer.fetch(count, {
      waitMs,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    const deliveries: Delivery<T>[] = [];
    for (const delivery of fetched) {
      const accepted = await this.#accept(delivery);
      if (accepted !== undefined) deliveries.push(accepted);
    }

    return deliveries;
  }

  close(): Promise<void> {
    this.#closing ??= this.#consumer.close().finally(() => {
      this.#setup.onClosed?.();
    });
    return this.#closing;
  }

  /** The delivery to return, or undefined once it is dead-lettered. */
  async #accept(delivery: TransportDelivery): Promise<Delivery<T> | undefined> {
    const log = this.#logger.child({
      messageId: delivery.message.id,
      attempt: delivery.attempt,
    });
    const { maxAttempts } = this.#policy;

    let reason: string | undefined;
    let message: Message<T> | undefined;
    if (delivery.attempt > maxAttempts) {
      reason = `delivered ${delivery.attempt} times, over the limit of ${maxAttempts} attempts, without being acknowledged`;
    } else {
      const decoded = await this.#setup.decode(delivery.message);
      if (decoded.ok) message = decoded.message;
      else reason = decoded.reason;
    }

    if (message !== undefined) {
      log.debug('delivery received');
      return this.#wrap(delivery, message);
    }
    try {
      await delivery.deadLetter(reason ?? 'rejected');
      log.error('message dead-lettered', { reason });
    } catch (error) {
      log.warn('could not dead-letter; the message will be delivered again', {
        reason,
        ...errorFields(error),
      });
    }
    return undefined;
  }

  #wrap(delivery: TransportDelivery, message: Message<T>): Delivery<T> {
    const { leaseMs } = this.#policy;
    const { capabilities } = this.#setup;
    const canExtend = supports(this.#setup.capabilities, 'extendLease');
    const canDelay = supports(this.#setup.capabilities, 'delayedRetry');
    const log = this.#logger;

    return {
      message,
      attempt: delivery.attempt,
      ack: () => delivery.ack(),
      async retry(options = {}) {
        const delayMs = Math.max(0, options.delayMs ?? 0);
        if (delayMs > 0 && !canDelay) {
          throw new CapabilityError(
            `retry with a delay is not supported by the provider of this channel: ${capabilities.unsupported.delayedRetry}`,
            { feature: 'delayedRetry' },
          );
        }
        await delivery.nak(delayMs);
      },
      async deadLetter(reason) {
        await delivery.deadLetter(reason);
        log.error('message dead-lettered', { messageId: message.id, reason });
      },
      async extendLease(ms = leaseMs) {
        if (!canExtend) {
          throw new CapabilityError(
            'extendLease is not supported by the provider of this channel',
            { feature: 'extendLease' },
          );
        }
        await delivery.extend(ms);
      },
    };
  }
}
