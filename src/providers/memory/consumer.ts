/**
 * A consumer of the memory provider: long-polling fetch over the shared
 * channel state, and the deliveries it hands out.
 */
import { ClosedError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type {
  ConsumerSpec,
  TransportConsumer,
  TransportDelivery,
} from '../../core/provider.ts';
import type { ChannelState, ConsumerState, Taken } from './channel-state.ts';
import { conflict, notFound, PROVIDER } from './support.ts';

/**
 * An open consumer. Fetches wait on the channel until a message becomes
 * deliverable (a publish, a retry delay or a lease running out), the wait
 * ends, the signal aborts or the consumer closes.
 */
export class MemoryConsumer implements TransportConsumer {
  readonly #channel: ChannelState;
  readonly #state: ConsumerState;
  readonly #spec: ConsumerSpec;
  readonly #onClose: (consumer: MemoryConsumer) => void;
  readonly #wakers = new Set<() => void>();
  #closed = false;

  constructor(
    channel: ChannelState,
    state: ConsumerState,
    spec: ConsumerSpec,
    onClose: (consumer: MemoryConsumer) => void,
  ) {
    this.#channel = channel;
    this.#state = state;
    this.#spec = spec;
    this.#onClose = onClose;
  }

  /**
   * Leases up to `max` deliverable messages, oldest first, waiting up to
   * `waitMs` for the first. ClosedError once closed; NotFoundError once
   * the channel or the group was deleted.
   */
  async fetch(
    max: number,
    options: { waitMs: number; signal?: AbortSignal },
  ): Promise<TransportDelivery[]> {
    this.#check();
    if (max < 1) return [];
    const first = this.#take(max);
    if (first.length > 0 || options.waitMs <= 0) return first;
    if (options.signal?.aborted === true) return [];

    return new Promise((resolve) => {
      const deadline = Date.now() + options.waitMs;
      let timer: NodeJS.Timeout | undefined;

      const finish = (deliveries: TransportDelivery[]): void => {
        clearTimeout(timer);
        unlisten();
        options.signal?.removeEventListener('abort', abort);
        this.#wakers.delete(abort);
        resolve(deliveries);
      };
      const abort = (): void => finish([]);
      const look = (): void => {
        if (!this.#live()) {
          finish([]);
          return;
        }
        const deliveries = this.#take(max);
        const now = Date.now();
        if (deliveries.length > 0 || now >= deadline) {
          finish(deliveries);
          return;
        }
        // Sleep until the deadline or until a retry delay or a lease
        // runs out, whichever comes first; publishes wake us earlier.
        const next = this.#channel.nextReadyAt(this.#state, now);
        clearTimeout(timer);
        timer = setTimeout(look, Math.min(next ?? deadline, deadline) - now);
        timer.unref();
      };

      const unlisten = this.#channel.listen(look);
      options.signal?.addEventListener('abort', abort, { once: true });
      this.#wakers.add(abort);
      look();
    });
  }

  /**
   * Stops the consumer and ends its waiting fetches with what they have.
   * Unacknowledged deliveries return to the group when their lease runs
   * out; a broadcast consumer is removed from the channel.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#wakers]) wake();
    if (
      this.#spec.mode === 'broadcast' &&
      this.#channel.consumers.get(this.#state.name) === this.#state
    ) {
      this.#channel.consumers.delete(this.#state.name);
    }
    this.#onClose(this);
  }

  /** Whether the consumer is open and its channel and group still exist. */
  #live(): boolean {
    return (
      !this.#closed &&
      !this.#channel.deleted &&
      this.#channel.consumers.get(this.#state.name) === this.#state
    );
  }

  #check(): void {
    if (this.#closed) {
      throw new ClosedError(
        `consumer '${this.#spec.name}' of channel '${this.#spec.channel}' is closed`,
        { details: this.#details() },
      );
    }
    if (this.#channel.deleted) {
      throw notFound('channel', this.#spec.channel, this.#details());
    }
    if (this.#channel.consumers.get(this.#state.name) !== this.#state) {
      throw notFound('consumer', this.#spec.name, this.#details());
    }
  }

  #take(max: number): TransportDelivery[] {
    const taken = this.#channel.take(
      this.#state,
      max,
      this.#spec.leaseMs,
      Date.now(),
    );
    return taken.map((t) => this.#delivery(t));
  }

  #delivery(taken: Taken): TransportDelivery {
    const channel = this.#channel;
    const state = this.#state;
    const { sequence } = taken.pending;
    const held = () => channel.current(state, sequence, taken.token);

    return {
      message: copyMessage(taken.pending.message),
      attempt: taken.attempt,
      channelSequence: sequence,
      ack: async () => {
        const pending = held();
        if (pending !== undefined) channel.ack(state, pending);
      },
      nak: async (delayMs) => {
        const pending = held();
        if (pending !== undefined) channel.nak(pending, delayMs, Date.now());
      },
      extend: async (leaseMs) => {
        const pending = held();
        if (pending === undefined || pending.lease === undefined) {
          throw conflict(
            `the lease of message ${taken.pending.message.id} is no longer held: it was acknowledged or delivered again`,
            String(taken.token),
            undefined,
            { ...this.#details(), messageId: taken.pending.message.id },
          );
        }
        pending.lease.until = Date.now() + leaseMs;
      },
      deadLetter: async (reason) => {
        const pending = held();
        if (pending !== undefined) {
          channel.deadLetter(state, pending, reason, Date.now());
        }
      },
    };
  }

  #details() {
    return {
      provider: PROVIDER,
      channel: this.#spec.channel,
      group: this.#spec.name,
    };
  }
}

/** A copy that the receiver may change without touching the store. */
export function copyMessage(message: WireMessage): WireMessage {
  return {
    ...message,
    body: message.body.slice(),
    attributes: { ...message.attributes },
  };
}
