/**
 * Channels as an application uses them: publish, subscribe with a handler
 * (push) or fetch deliveries (pull), under a delivery guarantee.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { CodecOption } from './codec.ts';
import type { Logger } from './logger.ts';
import type {
  BatchEntry,
  BatchResult,
  Message,
  PublishOptions,
  PublishReceipt,
} from './message.ts';

/**
 * - `at-most-once`: acknowledged before the handler runs; a failure or a
 *   crash loses the message.
 * - `at-least-once`: acknowledged after the handler succeeds; a failure is
 *   retried with backoff, then dead-lettered after `maxAttempts`.
 * - `exactly-once`: at-least-once plus an idempotency record per group and
 *   message id; a duplicate is acknowledged without running the handler.
 */
export type Guarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';

/** Options of a channel handle. */
export interface ChannelOptions<T> {
  /** Codec of the data. Default `json`. */
  codec?: CodecOption<T>;
  /**
   * A Standard Schema (zod, valibot, arktype...) the data must satisfy. A
   * publish that fails it is refused with a ValidationError naming the
   * field; a delivery that fails it is dead-lettered with the reason.
   */
  schema?: StandardSchemaV1<unknown, T>;
  /** Deliver messages that share an ordering key in order. Default false. */
  ordered?: boolean;
  /**
   * Worker groups to create with the channel, so that they receive every
   * message published from then on even before their first subscriber
   * starts. A group receives only messages published after it was created.
   */
  groups?: readonly string[];
  /**
   * Create the channel if it does not exist. Default true; with false, a
   * missing channel is a NotFoundError on first use.
   */
  create?: boolean;
  /**
   * When a publish resolves:
   * - `transport` (the default): once the transport has stored the
   *   message;
   * - `outbox`: once the message is durable in the client's local outbox
   *   (SQLite, WAL), from which a relay forwards it to the transport,
   *   retrying while the transport is down, in order per ordering key. A
   *   publish then goes on while the transport is unreachable; the
   *   channel is created (or, with `create: false`, checked) by the relay
   *   before it first sends, not by the publish. See
   *   `SwitchyardOptions.outbox`.
   */
  confirm?: 'transport' | 'outbox';
}

/** Exponential backoff with jitter between attempts. */
export interface BackoffOptions {
  /** Delay before the second attempt, in ms. Default 100. */
  initialDelayMs?: number;
  /** Largest delay, in ms. Default 30000. */
  maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  multiplier?: number;
  /**
   * `full`: a random delay between 0 and the computed one; `none`: the
   * computed one. Default `full`.
   */
  jitter?: 'full' | 'none';
}

/** Who receives a channel's messages. */
export type ConsumerMode =
  /** A durable worker group: each message goes to one member. */
  | { group: string; broadcast?: false }
  /** Every live instance receives every message published from now on. */
  | { broadcast: true; group?: undefined };

/** Options of a push subscription. */
export type SubscribeOptions = ConsumerMode & {
  /** Default `at-least-once`. */
  guarantee?: Guarantee;
  /** Handlers running at once. Default 1. */
  concurrency?: number;
  /** Attempts before a message is dead-lettered. Default 5. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /**
   * How long a delivery may run before it is delivered again elsewhere,
   * unless extended, in ms. Default 30000.
   */
  leaseMs?: number;
  /** Messages fetched per round trip. Default twice the concurrency. */
  batchSize?: number;
  /** How long a fetch waits for messages, in ms. Default 1000. */
  waitMs?: number;
  /** Exactly-once only: where and how records are kept. */
  idempotency?: {
    /** Table name. Default `switchyard-idempotency`. */
    table?: string;
    /** Record time-to-live after completion, in ms. Default 24 hours. */
    ttlMs?: number;
  };
  /** Aborting it closes the subscription, as `close()` would. */
  signal?: AbortSignal;
};

/** Options of a pull consumer. */
export type ConsumerOptions = ConsumerMode & {
  /** Default 30000. */
  leaseMs?: number;
  /**
   * A delivery arriving with a higher attempt count (its lease expired
   * that many times) is dead-lettered instead of returned. Default 5.
   */
  maxAttempts?: number;
};

/** What a handler receives besides the message. */
export interface HandlerContext {
  /** 1 on the first delivery. */
  readonly attempt: number;
  /** The worker group, or the broadcast consumer's name. */
  readonly group: string;
  /** Aborted when the subscription shuts down past its deadline. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Keeps the message leased for `ms` more (default: the lease length). */
  extendLease(ms?: number): Promise<void>;
}

/**
 * Handles one message. Returning acknowledges it; throwing retries it
 * (a `RetryLaterError` with its delay, a `PermanentError` not at all: it is
 * dead-lettered at once). Under exactly-once, the returned value, which
 * must be JSON-serialisable, is stored as the record's result.
 */
export type Handler<T> = (
  message: Message<T>,
  context: HandlerContext,
) => unknown | Promise<unknown>;

/** Counters of one subscription since it started. */
export interface SubscriptionStats {
  delivered: number;
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
  /** Duplicates acknowledged without running the handler. */
  duplicates: number;
  inFlight: number;
}

/** A running push subscription. */
export interface Subscription {
  readonly group: string;
  readonly stats: Readonly<SubscriptionStats>;
  /**
   * Stops fetching, lets handlers in flight finish for up to `timeoutMs`
   * (default 10000), then aborts the rest without acknowledging them, so
   * they are delivered again. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** One delivery of a pull consumer. */
export interface Delivery<T> {
  readonly message: Message<T>;
  readonly attempt: number;
  ack(): Promise<void>;
  /** Delivers the message again after `delayMs` (default 0). */
  retry(options?: { delayMs?: number }): Promise<void>;
  /** Moves the message to the channel's dead letters with `reason`. */
  deadLetter(reason: string): Promise<void>;
  /** Keeps the message leased for `ms` more (default: the lease length). */
  extendLease(ms?: number): Promise<void>;
}

/** A pull consumer. */
export interface PullConsumer<T> {
  readonly group: string;
  /**
   * Up to `max` deliveries, waiting up to `waitMs` (default 1000) for the
   * first. Deliveries that fail to decode or to validate are dead-lettered
   * with the reason and not returned.
   */
  fetch(
    max: number,
    options?: { waitMs?: number; signal?: AbortSignal },
  ): Promise<Delivery<T>[]>;
  close(): Promise<void>;
}

/** A named channel. */
export interface Channel<T> {
  readonly name: string;
  /**
   * Publishes one message and resolves once the transport has stored it
   * (with `confirm: 'outbox'`, once the outbox has; the receipt's
   * `confirmedBy` says which). Throws a ValidationError (bad data, schema,
   * attribute) or a PayloadTooLargeError, which a retry cannot mend; or,
   * when the transport cannot be reached, a TransportUnavailableError (the
   * connection is refused or lost) or a TimeoutError (the transport did
   * not answer in time, so the message may or may not be stored). Both of
   * those are `retryable`: publish again with the same `id`, and the
   * consumer side drops the duplicate where the provider has a dedup
   * window or the subscription is exactly-once.
   */
  publish(data: T, options?: PublishOptions): Promise<PublishReceipt>;
  /**
   * Publishes several messages in order, with one result per entry: an
   * entry that fails does not fail the others.
   */
  publishBatch(entries: readonly BatchEntry<T>[]): Promise<BatchResult[]>;
  /** Runs `handler` on the channel's messages until closed. */
  subscribe(handler: Handler<T>, options: SubscribeOptions): Subscription;
  /** Opens a pull consumer. */
  consumer(options: ConsumerOptions): Promise<PullConsumer<T>>;
}
