/**
 * An open consumer of a local channel: long-polling fetches that take a
 * batch in one transaction, and deliveries settled through the write
 * queue, so that the acknowledgements of one turn share one commit.
 */
import type { WireMessage } from '../../core/message.ts';
import type {
  ConsumerSpec,
  TransportConsumer,
  TransportDelivery,
} from '../../core/provider.ts';
import { type Closable, channelTopic, type LocalContext } from './context.ts';
import type { ConsumerRef, Leases, Taken } from './leases.ts';
import { readMessageRow } from './messages.ts';
import { closed, conflict, read } from './support.ts';
import { Backoff } from './wakeups.ts';

/** Most deliveries one fetch returns. */
export const MAX_FETCH = 1000;

/**
 * A consumer of one channel, for a worker group or a broadcast instance.
 *
 * Acknowledging, retrying or dead-lettering a delivery whose lease token
 * is stale (it was settled already, or its lease expired and the message
 * was handed out again) does nothing: the newer delivery stays, and its
 * holder decides. Extending such a lease throws a ConflictError, so that
 * its holder learns it lost the message. A row that cannot be read as a
 * message (an empty id, an attributes column that is not a JSON object
 * of strings) is
 * dead-lettered with the reason by the fetch that takes it, and never
 * returned. Closing returns the deliveries this consumer still holds to
 * the channel at once (their attempt counts stand); closing a broadcast
 * consumer removes it.
 */
export class LocalConsumer implements TransportConsumer, Closable {
  readonly ref: ConsumerRef;
  readonly #context: LocalContext;
  readonly #leases: Leases;
  readonly #spec: ConsumerSpec;
  readonly #held = new Map<number, number>();
  readonly #topic: string;
  readonly #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    context: LocalContext,
    leases: Leases,
    ref: ConsumerRef,
    spec: ConsumerSpec,
  ) {
    this.#context = context;
    this.#leases = leases;
    this.ref = ref;
    this.#spec = spec;
    this.#topic = channelTopic(ref.channel);
    if (spec.mode === 'broadcast') {
      const every = Math.min(context.options.broadcastInactiveMs / 4, 15_000);
      this.#heartbeat = setInterval(() => this.#beat(), every);
      this.#heartbeat.unref();
    }
  }

  async fetch(
    max: number,
    options: { waitMs: number; signal?: AbortSignal },
  ): Promise<TransportDelivery[]> {
    if (this.#closed) throw closed('fetch', `consumer '${this.ref.name}'`);
    const limit = Math.max(1, Math.min(Math.floor(max) || 1, MAX_FETCH));
    const deadline = Date.now() + Math.max(0, options.waitMs);
    const backoff = new Backoff(this.#context.options.pollIntervalMs);

    for (let first = true; ; first = false) {
      if (this.#closed || options.signal?.aborted) return [];
      if (first || read('fetch', () => this.#leases.ready(this.ref))) {
        const deliveries = await this.#take(limit);
        if (deliveries.length > 0) return deliveries;
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      const pause = Math.min(backoff.next(), left);
      await this.#context.wakeups.wait(this.#topic, pause, options.signal);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#context.lifecycle.untrack(this);
    this.#context.wakeups.notify(this.#topic);

    const held = [...this.#held];
    this.#held.clear();
    const { id } = this.ref;
    const broadcast = this.#spec.mode === 'broadcast';
    await this.#context.writer.run('close consumer', () => {
      if (broadcast) {
        removeConsumer(this.#context, id);
        return;
      }
      const now = Date.now();
      for (const [seq, token] of held) {
        this.#leases.delay(id, seq, token, now);
      }
    });
    this.#context.wakeups.notify(this.#topic);
  }

  /** Settles a delivery and wakes this process's consumers of the channel. */
  async settle(
    operation: string,
    seq: number,
    token: number,
    work: () => boolean,
    final: boolean,
  ): Promise<void> {
    await this.#context.writer.run(operation, work);
    if (final && this.#held.get(seq) === token) this.#held.delete(seq);
    this.#context.wakeups.notify(this.#topic);
  }

  /** The statements deliveries settle through. */
  leases(): Leases {
    return this.#leases;
  }

  async #take(limit: number): Promise<TransportDelivery[]> {
    const leaseMs = this.#spec.leaseMs;
    const unreadable: { id: string; reason: string }[] = [];
    const taken = await this.#context.writer.run('fetch', () => {
      const readable: { item: Taken; message: WireMessage }[] = [];
      for (const item of this.#leases.take(this.ref, limit, leaseMs)) {
        const read = readMessageRow(item.row, this.ref.channel);
        if (read.ok) {
          readable.push({ item, message: read.message });
          continue;
        }
        // A row no delivery can carry is dead-lettered in the same
        // transaction that took it, so it never blocks the rows after it.
        const delivery = {
          seq: item.row.seq,
          token: item.token,
          attempt: item.attempt,
        };
        this.#leases.deadLetter(this.ref, delivery, read.message, read.reason);
        unreadable.push({ id: item.row.id, reason: read.reason });
      }
      return readable;
    });

    for (const { id, reason } of unreadable) {
      this.#context.logger.error('dead-lettered a row that cannot be read', {
        channel: this.ref.channel,
        consumer: this.ref.name,
        messageId: id,
        reason,
      });
    }
    return taken.map(({ item, message }) => {
      this.#held.set(item.row.seq, item.token);
      return new LocalDelivery(this, item, message);
    });
  }

  #beat(): void {
    const id = this.ref.id;
    this.#context.writer
      .run('broadcast heartbeat', () =>
        this.#context.db
          .prepare('UPDATE consumers SET active_at = ? WHERE id = ?')
          .run(Date.now(), id),
      )
      .catch((error: unknown) => {
        this.#context.logger.warn('broadcast heartbeat failed', {
          channel: this.ref.channel,
          consumer: this.ref.name,
          error,
        });
      });
  }
}

/** Deletes a consumer and its deliveries, inside a write. */
export function removeConsumer(context: LocalContext, id: number): void {
  context.db.prepare('DELETE FROM deliveries WHERE consumer_id = ?').run(id);
  context.db.prepare('DELETE FROM consumers WHERE id = ?').run(id);
}

class LocalDelivery implements TransportDelivery {
  readonly message: WireMessage;
  readonly attempt: number;
  readonly channelSequence: number;
  readonly #consumer: LocalConsumer;
  readonly #token: number;

  constructor(consumer: LocalConsumer, taken: Taken, message: WireMessage) {
    this.#consumer = consumer;
    this.#token = taken.token;
    this.attempt = taken.attempt;
    this.channelSequence = taken.row.seq;
    this.message = message;
  }

  ack(): Promise<void> {
    const { id } = this.#consumer.ref;
    const seq = this.channelSequence;
    const leases = this.#consumer.leases();
    return this.#consumer.settle(
      'ack',
      seq,
      this.#token,
      () => leases.ack(id, seq, this.#token),
      true,
    );
  }

  nak(delayMs: number): Promise<void> {
    const { id } = this.#consumer.ref;
    const seq = this.channelSequence;
    const leases = this.#consumer.leases();
    return this.#consumer.settle(
      'nak',
      seq,
      this.#token,
      () =>
        leases.delay(id, seq, this.#token, Date.now() + Math.max(0, delayMs)),
      true,
    );
  }

  extend(leaseMs: number): Promise<void> {
    const { id } = this.#consumer.ref;
    const seq = this.channelSequence;
    const leases = this.#consumer.leases();
    return this.#consumer.settle(
      'extend lease',
      seq,
      this.#token,
      () => {
        const until = Date.now() + Math.max(0, leaseMs);
        if (leases.delay(id, seq, this.#token, until)) return true;
        throw conflict(
          `the lease of message ${this.message.id} is no longer held: it was settled or delivered again`,
          String(this.#token),
          undefined,
          {
            channel: this.#consumer.ref.channel,
            group: this.#consumer.ref.name,
            messageId: this.message.id,
          },
        );
      },
      false,
    );
  }

  deadLetter(reason: string): Promise<void> {
    const seq = this.channelSequence;
    const leases = this.#consumer.leases();
    const delivery = { seq, token: this.#token, attempt: this.attempt };
    return this.#consumer.settle(
      'dead-letter',
      seq,
      this.#token,
      () =>
        leases.deadLetter(this.#consumer.ref, delivery, this.message, reason),
      true,
    );
  }
}
