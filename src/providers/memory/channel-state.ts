/**
 * The state of one channel, shared by every provider instance of a
 * namespace: its messages, numbered from 1, and per consumer (worker
 * group or broadcast instance) the messages it has still to acknowledge,
 * with their leases, attempt counts and visibility times.
 *
 * A delivery is leased: until the lease runs out, no one else is handed
 * the message. A lease that runs out makes the message deliverable again
 * with the next attempt; it is not taken from its holder until someone
 * fetches it, so an acknowledgement that comes late but before anyone
 * else took the message still counts. Each lease has a token, and an
 * operation that carries an older token than the message's current one
 * concerns a delivery that has been superseded.
 */
import type { WireMessage } from '../../core/message.ts';
import type { DeadLetter } from '../../core/provider.ts';

/** A message a consumer has still to acknowledge. */
export interface Pending {
  readonly sequence: number;
  readonly message: WireMessage;
  /** Deliveries made so far. */
  attempts: number;
  /** Not deliverable before this time, in ms: a retry delay, or 0. */
  visibleAt: number;
  /** The delivery out now, if any. */
  lease?: { token: number; until: number };
}

/** A delivery handed out by {@link ChannelState.take}. */
export interface Taken {
  readonly pending: Pending;
  readonly token: number;
  readonly attempt: number;
}

/** A consumer of a channel: a worker group or a broadcast instance. */
export class ConsumerState {
  readonly name: string;
  readonly mode: 'group' | 'broadcast';
  /** What the consumer has still to acknowledge, by ascending sequence. */
  pending = new Map<number, Pending>();
  lastActiveAt: number | undefined;

  constructor(name: string, mode: 'group' | 'broadcast') {
    this.name = name;
    this.mode = mode;
  }
}

/** A dead letter with the channel sequence of its message. */
export interface DeadLetterRecord {
  letter: DeadLetter;
  sequence: number;
}

/** One channel; see the module comment for the lease model. */
export class ChannelState {
  readonly name: string;
  /**
   * Whether messages of one ordering key go out one at a time. Once any
   * `ensure` asks for it, it stays on.
   */
  ordered: boolean;
  /** Stored messages by ascending channel sequence. */
  messages = new Map<number, WireMessage>();
  lastSequence = 0;
  readonly consumers = new Map<string, ConsumerState>();
  deadLetters: DeadLetterRecord[] = [];
  /** Set once the channel is deleted; its consumers then stop. */
  deleted = false;
  /** Message id to when it was published, oldest first. */
  readonly #seen = new Map<string, { at: number; sequence: number }>();
  readonly #listeners = new Set<() => void>();
  #tokens = 0;

  constructor(name: string, ordered: boolean) {
    this.name = name;
    this.ordered = ordered;
  }

  /** Creates the consumer if absent; it sees only later messages. */
  addConsumer(name: string, mode: 'group' | 'broadcast'): ConsumerState {
    let consumer = this.consumers.get(name);
    if (consumer === undefined) {
      consumer = new ConsumerState(name, mode);
      this.consumers.set(name, consumer);
    }
    return consumer;
  }

  /**
   * Stores a message for every consumer, unless its id was published
   * within the last `windowMs`: then returns the first one's sequence.
   */
  publish(
    message: WireMessage,
    now: number,
    windowMs: number,
  ): { sequence: number; duplicate: boolean } {
    if (windowMs > 0) {
      this.#forget(now - windowMs);
      const seen = this.#seen.get(message.id);
      if (seen !== undefined) {
        return { sequence: seen.sequence, duplicate: true };
      }
    }

    const sequence = ++this.lastSequence;
    this.messages.set(sequence, message);
    for (const consumer of this.consumers.values()) {
      consumer.pending.set(sequence, {
        sequence,
        message,
        attempts: 0,
        visibleAt: 0,
      });
    }
    if (windowMs > 0) this.#seen.set(message.id, { at: now, sequence });

    return { sequence, duplicate: false };
  }

  /**
   * Leases up to `max` deliverable messages to `consumer`, oldest first.
   * On an ordered channel a message waits while an earlier one with its
   * ordering key is still unacknowledged by the consumer.
   */
  take(
    consumer: ConsumerState,
    max: number,
    leaseMs: number,
    now: number,
  ): Taken[] {
    const taken: Taken[] = [];
    const held = new Set<string>();
    for (const pending of consumer.pending.values()) {
      if (taken.length >= max) break;
      const key = this.ordered ? pending.message.orderingKey : undefined;
      if (key !== undefined) {
        if (held.has(key)) continue;
        held.add(key);
      }
      if (!isReady(pending, now)) continue;

      pending.attempts += 1;
      pending.visibleAt = 0;
      pending.lease = { token: ++this.#tokens, until: now + leaseMs };
      taken.push({
        pending,
        token: pending.lease.token,
        attempt: pending.attempts,
      });
    }
    consumer.lastActiveAt = now;

    return taken;
  }

  /** When a message of `consumer` next becomes deliverable, if ever. */
  nextReadyAt(consumer: ConsumerState, now: number): number | undefined {
    let next: number | undefined;
    for (const pending of consumer.pending.values()) {
      const at = pending.lease?.until ?? pending.visibleAt;
      if (at > now && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * The pending entry that the delivery with `token` still holds, or
   * undefined when it was acknowledged, purged or delivered again since.
   */
  current(
    consumer: ConsumerState,
    sequence: number,
    token: number,
  ): Pending | undefined {
    if (this.deleted || this.consumers.get(consumer.name) !== consumer) {
      return undefined;
    }
    const pending = consumer.pending.get(sequence);
    return pending?.lease?.token === token ? pending : undefined;
  }

  /** Removes a delivered message for its consumer. */
  ack(consumer: ConsumerState, pending: Pending): void {
    consumer.pending.delete(pending.sequence);
    this.notify();
  }

  /** Makes a delivered message deliverable again after `delayMs`. */
  nak(pending: Pending, delayMs: number, now: number): void {
    pending.lease = undefined;
    pending.visibleAt = now + Math.max(0, delayMs);
    this.notify();
  }

  /** Moves a delivered message to the dead letters. */
  deadLetter(
    consumer: ConsumerState,
    pending: Pending,
    reason: string,
    now: number,
  ): void {
    consumer.pending.delete(pending.sequence);
    this.deadLetters.push({
      sequence: pending.sequence,
      letter: {
        message: pending.message,
        group: consumer.name,
        reason,
        attempts: pending.attempts,
        deadLetteredAt: now,
      },
    });
    this.notify();
  }

  /** Calls `listener` whenever something may have become deliverable. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Wakes the listeners: fetches waiting for messages look again. */
  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Forgets the ids published at or before `cutoff`. */
  #forget(cutoff: number): void {
    for (const [id, seen] of this.#seen) {
      if (seen.at > cutoff) break;
      this.#seen.delete(id);
    }
  }
}

/** Whether a delivery of `pending` is out and its lease still runs. */
export function isLeased(pending: Pending, now: number): boolean {
  return pending.lease !== undefined && pending.lease.until > now;
}

function isReady(pending: Pending, now: number): boolean {
  return !isLeased(pending, now) && pending.visibleAt <= now;
}
