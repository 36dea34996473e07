/**
 * A consumer that can move from one channel transport to another while it
 * is being fetched from, for a pipeline that switches transports at
 * runtime.
 *
 * Before the switch, the consumer is opened on the new transport too, so
 * that a broadcast consumer exists there before the first publish reaches
 * it. After it, fetches keep taking from the old transport until this
 * consumer's share of it is drained: nothing handed out is still
 * unsettled, the transport reports nothing pending or in flight for the
 * consumer, and that holds on two checks `checkMs` apart with no delivery
 * in between. Only then does it close the old consumer and fetch from the
 * new one, so messages with one ordering key keep their order across the
 * switch.
 */
import type { Logger } from '../core/logger.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  FetchOptions,
  TransportConsumer,
  TransportDelivery,
} from '../core/provider.ts';
import { errorFields } from './errors.ts';

/** What is left of a consumer's share of the old transport. */
export interface DrainOutcome {
  drained: boolean;
  /**
   * Messages pending or in flight when the drain ended: 0 when drained, -1
   * when the old transport could not say.
   */
  left: number;
}

interface Draining {
  transport: ChannelTransport;
  consumer: TransportConsumer;
  /** Deliveries handed out from the old consumer and not yet settled. */
  outstanding: number;
  /** When the transport last reported nothing left, if it did. */
  quietSince: number | undefined;
  /** The last figure the transport reported, if it did. */
  left: number | undefined;
  /** How long it must report nothing left. */
  checkMs: number;
  finish(outcome: DrainOutcome): void;
  finished: Promise<DrainOutcome>;
}

/** How long fetches on a draining consumer wait for each batch, at most. */
const DRAIN_FETCH_WAIT_MS = 250;

/**
 * A {@link TransportConsumer} whose underlying consumer can be replaced by
 * one on another transport. Without a switch it adds one call per fetch.
 */
export class SwitchingConsumer implements TransportConsumer {
  readonly spec: ConsumerSpec;
  readonly #logger: Logger;
  readonly #onClosed: () => void;
  #active: TransportConsumer;
  #prepared: TransportConsumer | undefined;
  #draining: Draining | undefined;
  #lastDrain: Promise<DrainOutcome> | undefined;
  #checking: Promise<void> | undefined;
  #closed = false;

  constructor(
    spec: ConsumerSpec,
    consumer: TransportConsumer,
    options: { logger: Logger; onClosed: () => void },
  ) {
    this.spec = spec;
    this.#active = consumer;
    this.#logger = options.logger;
    this.#onClosed = options.onClosed;
  }

  /** Whether the consumer still takes from a transport it is leaving. */
  get draining(): boolean {
    return this.#draining !== undefined;
  }

  /**
   * Opens the consumer on `next`, ahead of the flip: a broadcast consumer
   * must exist there before the first publish reaches it. Fetches still
   * go to the current transport until {@link commit}.
   */
  async prepare(next: ChannelTransport): Promise<void> {
    if (this.#draining !== undefined) {
      throw new Error('a consumer cannot move while it is still draining');
    }
    const opened = await next.consume(this.spec);
    if (this.#closed) {
      await opened.close();
      return;
    }
    this.#prepared = opened;
  }

  /** Closes what {@link prepare} opened: the switch did not happen. */
  async cancel(): Promise<void> {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    await prepared?.close().catch((error: unknown) => {
      this.#logger.warn(
        'could not close a consumer of a switch that failed',
        errorFields(error),
      );
    });
  }

  /**
   * At the flip: fetches drain `current` (the transport being left), then
   * go to the transport {@link prepare} opened the consumer on.
   */
  commit(current: ChannelTransport, checkMs: number): void {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared === undefined) return;

    const leaving = this.#active;
    this.#active = prepared;
    this.drainFrom(leaving, current, checkMs);
  }

  /**
   * Makes fetches drain `consumer`, open on `transport` (the transport
   * being left), before they go to the current one.
   */
  drainFrom(
    consumer: TransportConsumer,
    transport: ChannelTransport,
    checkMs: number,
  ): void {
    if (this.#draining !== undefined) {
      throw new Error('a consumer drains one transport at a time');
    }
    let finish!: (outcome: DrainOutcome) => void;
    const finished = new Promise<DrainOutcome>((resolve) => {
      finish = resolve;
    });
    this.#lastDrain = finished;
    this.#draining = {
      transport,
      consumer,
      outstanding: 0,
      quietSince: undefined,
      left: undefined,
      checkMs,
      finish,
      finished,
    };
  }

  /**
   * Resolves when the consumer no longer takes from the old transport of
   * its latest drain, with how that drain ended.
   */
  drained(): Promise<DrainOutcome> {
    return this.#lastDrain ?? Promise.resolve({ drained: true, left: 0 });
  }

  /**
   * Stops draining: the old consumer is closed with what it still holds
   * (delivered again there when their leases expire, to whoever still
   * consumes that transport) and fetches go to the new transport.
   */
  async abandon(): Promise<void> {
    const draining = this.#draining;
    if (draining === undefined) return;
    await this.#finishDrain(draining, false);
  }

  async fetch(
    max: number,
    options: FetchOptions,
  ): Promise<TransportDelivery[]> {
    const draining = this.#draining;
    if (draining === undefined) return this.#active.fetch(max, options);

    const deliveries = await draining.consumer.fetch(max, {
      ...options,
      waitMs: Math.min(options.waitMs, DRAIN_FETCH_WAIT_MS),
      prefetch: false,
    });
    if (deliveries.length > 0) {
      draining.quietSince = undefined;
      return deliveries.map((d) => tracked(d, draining));
    }
    if (options.signal?.aborted) return [];

    this.#checking ??= this.#check(draining).finally(() => {
      this.#checking = undefined;
    });
    await this.#checking;
    if (this.#draining !== undefined || options.signal?.aborted) return [];

    return this.#active.fetch(max, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const draining = this.#draining;
    if (draining !== undefined) await this.#finishDrain(draining, false);
    await this.cancel();
    try {
      await this.#active.close();
    } finally {
      this.#onClosed();
    }
  }

  /** Whether the old transport holds nothing more for this consumer. */
  async #check(draining: Draining): Promise<void> {
    if (draining.outstanding > 0) {
      draining.quietSince = undefined;
      return;
    }
    const left = await this.#left(draining.transport);
    if (left === undefined) return;
    draining.left = left;
    if (left > 0) {
      draining.quietSince = undefined;
      return;
    }

    const now = Date.now();
    if (draining.quietSince === undefined) {
      draining.quietSince = now;
      return;
    }
    if (now - draining.quietSince >= draining.checkMs) {
      await this.#finishDrain(draining, true);
    }
  }

  /** Pending and in flight for this consumer on `transport`, if known. */
  async #left(transport: ChannelTransport): Promise<number | undefined> {
    try {
      const consumers = await transport.consumers(this.spec.channel);
      const info = consumers.find((c) => c.name === this.spec.name);
      return info === undefined ? 0 : info.pending + info.inFlight;
    } catch (error) {
      this.#logger.warn(
        'could not read what is left on the transport being left',
        errorFields(error),
      );
      return undefined;
    }
  }

  async #finishDrain(draining: Draining, drained: boolean): Promise<void> {
    if (this.#draining !== draining) return;
    this.#draining = undefined;
    if (!drained) draining.left = await this.#left(draining.transport);
    try {
      await draining.consumer.close();
    } catch (error) {
      this.#logger.warn(
        'could not close the consumer on the transport being left',
        errorFields(error),
      );
    }
    draining.finish({ drained, left: drained ? 0 : (draining.left ?? -1) });
  }
}

/** `delivery`, counted as outstanding until it is settled once. */
function tracked(
  delivery: TransportDelivery,
  draining: Draining,
): TransportDelivery {
  draining.outstanding++;
  let settled = false;
  const settle = <A extends unknown[]>(
    step: (...args: A) => Promise<void>,
  ): ((...args: A) => Promise<void>) => {
    return async (...args: A) => {
      try {
        await step(...args);
      } finally {
        if (!settled) {
          settled = true;
          draining.outstanding--;
        }
      }
    };
  };

  return {
    message: delivery.message,
    attempt: delivery.attempt,
    ...(delivery.channelSequence !== undefined && {
      channelSequence: delivery.channelSequence,
    }),
    ack: settle(() => delivery.ack()),
    nak: settle((delayMs: number) => delivery.nak(delayMs)),
    deadLetter: settle((reason: string) => delivery.deadLetter(reason)),
    extend: (leaseMs) => delivery.extend(leaseMs),
  };
}
