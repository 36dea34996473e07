/**
 * The provider contract: what a transport implements so that Switchyard can
 * run on it. Providers work on bytes ({@link WireMessage}, `Uint8Array`
 * values); codecs, schemas, names, retries, dead-lettering policy and
 * idempotency live in the core, above this contract, and are the same on
 * every provider.
 *
 * Every part is optional: a provider offers what it can, and the
 * configuration may take channels from one provider and key-value buckets
 * from another. Each method throws a `SwitchyardError` subclass:
 * `NotFoundError`, `ConflictError`, `PayloadTooLargeError`,
 * `TransportUnavailableError` (retryable), with `details.provider` set.
 */
import type { Capabilities } from './capabilities.ts';
import type { Logger } from './logger.ts';
import type { WireMessage } from './message.ts';

/** A transport: channels, buckets, request/reply and idempotency records. */
export interface Provider {
  /** Name used in configuration, e.g. `local`. */
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly channels?: ChannelTransport;
  readonly kv?: KvTransport;
  readonly objects?: ObjectTransport;
  readonly requests?: RequestTransport;
  readonly idempotency?: IdempotencyTransport;
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

/** What a provider factory receives besides its own options. */
export interface ProviderContext {
  logger: Logger;
  /** Unique id of this client instance, used for broadcast consumers. */
  instanceId: string;
}

/**
 * A provider module, loaded by a dynamic import when configuration selects
 * it. `options` is the provider's section of the configuration; the factory
 * validates it and throws a `ConfigurationError` naming the field.
 */
export type ProviderFactory = (
  options: Record<string, unknown>,
  context: ProviderContext,
) => Promise<Provider>;

// ---------------------------------------------------------------------------
// Channels

/** How a channel is declared to the transport. */
export interface ChannelSpec {
  name: string;
  /** Deliver messages that share an ordering key in order, one at a time. */
  ordered: boolean;
  /**
   * Worker groups to create with the channel. A group receives the messages
   * published after it was created (here, or by its first `consume`), never
   * earlier ones, on every provider.
   */
  groups: readonly string[];
}

/** How a consumer is declared. */
export interface ConsumerSpec {
  channel: string;
  /**
   * `group`: a durable worker group; each message goes to one member, and
   * the group resumes where it left off after a restart.
   * `broadcast`: one consumer per live instance that sees every message
   * published after it was opened, removed by `close()` or by the transport
   * once the instance has been gone for a while.
   */
  mode: 'group' | 'broadcast';
  /** Group name; for broadcast, a name unique to the instance. */
  name: string;
  /**
   * How long a delivery stays invisible to others before it is delivered
   * again, unless acknowledged or extended (visibility timeout, ack wait).
   */
  leaseMs: number;
  /**
   * The policy's attempt limit. A transport with native dead-lettering may
   * configure it; the core dead-letters anyway when a delivery arrives with
   * `attempt > maxAttempts`.
   */
  maxAttempts: number;
}

/** A channel as a provider offers it. */
export interface ChannelTransport {
  /** Creates the channel if absent. Idempotent. */
  ensure(spec: ChannelSpec): Promise<void>;
  /** Whether the channel exists. */
  exists(channel: string): Promise<boolean>;
  /** Names of all channels, dead-letter storage excluded. */
  list(): Promise<string[]>;
  /** Deletes a channel with its messages, consumers and dead letters. */
  delete(channel: string): Promise<void>;

  /**
   * Publishes messages in order and returns one outcome per message, in the
   * same order. A failure of one does not fail the others. Resolves when
   * the transport has accepted (stored) each message.
   */
  publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]>;

  /** Opens a consumer, creating it if absent (durable for groups). */
  consume(spec: ConsumerSpec): Promise<TransportConsumer>;

  /**
   * Removes messages. Without options, all of them (in flight included).
   * With `acknowledged`, only those every group has acknowledged, so nothing
   * a group still has to handle is lost; with `upToSequence`, only those at
   * or below that channel sequence that every group has acknowledged.
   * Returns how many were removed.
   */
  purge(
    channel: string,
    options?: { acknowledged?: boolean; upToSequence?: number },
  ): Promise<number>;

  /** The channel's consumers (groups and live broadcast instances). */
  consumers(channel: string): Promise<ConsumerInfo[]>;
  /** Deletes a consumer and its progress. NotFoundError if absent. */
  deleteConsumer(channel: string, name: string): Promise<void>;
  stats(channel: string): Promise<ChannelStats>;

  /** Dead letters of the channel, oldest first. */
  deadLetters(
    channel: string,
    options?: { limit?: number },
  ): Promise<DeadLetter[]>;
  /**
   * Puts dead letters back to the group each was dead-lettered from, with
   * a fresh attempt count, and removes them from the dead letters. All of
   * the channel's, or those whose message ids are given. Returns how many.
   */
  replayDeadLetters(
    channel: string,
    options?: { ids?: readonly string[] },
  ): Promise<number>;
  /** Removes dead letters. Returns how many. */
  purgeDeadLetters(channel: string): Promise<number>;

  /**
   * Stores a message as a dead letter of `channel`, for a delivery that
   * reached its group outside a consumer of this transport (a Lambda
   * event source mapping hands records over without a
   * `TransportDelivery`). The caller then removes the original from the
   * group's queue. Optional: a runtime without it leaves the message to
   * the transport's own dead-lettering.
   */
  deadLetter?(channel: string, letter: DeadLetterInput): Promise<void>;
}

/** The outcome of publishing one message. */
export type TransportPublishOutcome =
  | { ok: true; channelSequence?: number; duplicate: boolean }
  | { ok: false; error: Error };

/** Options of {@link TransportConsumer.fetch}. */
export interface FetchOptions {
  waitMs: number;
  signal?: AbortSignal;
  /** The caller fetches again at once; see `fetch`. Default false. */
  prefetch?: boolean;
}

/** An open consumer. */
export interface TransportConsumer {
  /**
   * Returns up to `max` deliveries, waiting up to `waitMs` for the first if
   * none is ready (long polling), and returning early with what it has.
   * Resolves with what it has (possibly none) when `signal` aborts.
   *
   * `prefetch` says the caller fetches again as soon as it has handed
   * these out (a running subscription), so a transport may ask for the
   * next batch before it returns this one; deliveries it receives
   * meanwhile wait for that next fetch, their leases running.
   */
  fetch(max: number, options: FetchOptions): Promise<TransportDelivery[]>;
  /**
   * Stops the consumer. Deliveries not acknowledged return to the channel
   * when their lease expires (or at once, where the transport can). A
   * broadcast consumer is removed. Idempotent.
   */
  close(): Promise<void>;
}

/** One delivery of a message to a consumer. */
export interface TransportDelivery {
  readonly message: WireMessage;
  /** 1 on first delivery, then counts each redelivery. */
  readonly attempt: number;
  /** Position in the channel, where the transport numbers messages. */
  readonly channelSequence?: number;
  /** Removes the message for this consumer. */
  ack(): Promise<void>;
  /** Makes the message deliverable again after `delayMs`. */
  nak(delayMs: number): Promise<void>;
  /** Keeps the message invisible for `leaseMs` more from now. */
  extend(leaseMs: number): Promise<void>;
  /**
   * Removes the message for this consumer and stores it as a dead letter
   * of the channel with `reason` and the attempt count.
   */
  deadLetter(reason: string): Promise<void>;
}

/** A consumer as listed by admin calls. */
export interface ConsumerInfo {
  name: string;
  mode: 'group' | 'broadcast';
  /** Messages stored that this consumer has not yet taken. */
  pending: number;
  /** Messages taken and not yet acknowledged. */
  inFlight: number;
  /**
   * Highest channel sequence at or below which the consumer has
   * acknowledged everything, where the transport numbers messages.
   */
  ackFloor?: number;
  /** Last time the consumer fetched, in ms since the epoch, if known. */
  lastActiveAt?: number;
}

/** Counters of a channel. */
export interface ChannelStats {
  /** Messages stored in the channel. */
  depth: number;
  /** Messages taken by some consumer and not yet acknowledged. */
  inFlight: number;
  deadLettered: number;
  /** Per consumer: messages not yet acknowledged (lag) and in flight. */
  consumers: Record<string, { lag: number; inFlight: number }>;
  /**
   * The channel's messages in the client's producer outbox, not yet on
   * the transport: how many, the age of the oldest in ms (0 when none),
   * and how many the transport refused for good. Set by
   * `client.admin.stats` when the client has an outbox file; never by a
   * provider.
   */
  outbox?: { depth: number; oldestAgeMs: number; failed: number };
}

/** A message that could not be handled, kept with why. */
export interface DeadLetter {
  message: WireMessage;
  /** The group (or broadcast consumer) it was dead-lettered from. */
  group: string;
  reason: string;
  /** Attempts made before it was dead-lettered. */
  attempts: number;
  /** Milliseconds since the epoch. */
  deadLetteredAt: number;
}

/** A dead letter handed to {@link ChannelTransport.deadLetter}. */
export interface DeadLetterInput extends Omit<DeadLetter, 'deadLetteredAt'> {
  /**
   * The bytes as received, when they were not a Switchyard message
   * (`message` then carries them as its body). A transport that stores
   * messages as envelopes stores these as they came instead, so that the
   * dead letter is replayed unchanged. Absent for a Switchyard message.
   */
  body?: Uint8Array;
}

// ---------------------------------------------------------------------------
// Key-value

/** Key-value buckets as a provider offers them. */
export interface KvTransport {
  /**
   * Opens a bucket. With `create`, creates it if absent (with `ttlMs`, the
   * bucket's entry time-to-live); otherwise NotFoundError if absent.
   */
  open(
    bucket: string,
    options: { create: boolean; ttlMs?: number },
  ): Promise<KvStore>;
  list(): Promise<string[]>;
  /** Deletes a bucket and its entries. */
  delete(bucket: string): Promise<void>;
}

/** An entry as stored. */
export interface RawKvEntry {
  key: string;
  value: Uint8Array;
  /**
   * Opaque revision of this write (a sequence, a version, an etag). Two
   * writes of one key never have the same revision.
   */
  revision: string;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/** An event of a watch. */
export type RawKvEvent =
  | { type: 'snapshot'; entries: RawKvEntry[] }
  | { type: 'put'; entry: RawKvEntry }
  | { type: 'delete'; key: string; revision?: string };

/** One bucket. Keys and prefixes are validated by the core. */
export interface KvStore {
  get(key: string): Promise<RawKvEntry | undefined>;
  /** Writes unconditionally; returns the new revision. */
  put(key: string, value: Uint8Array): Promise<string>;
  /** Writes only if the key is absent; ConflictError otherwise. */
  create(key: string, value: Uint8Array): Promise<string>;
  /**
   * Writes only if the key's current revision is `revision`; ConflictError
   * (with expected and actual) otherwise, also when the key is absent.
   */
  update(key: string, value: Uint8Array, revision: string): Promise<string>;
  /**
   * Deletes the key. With `revision`, only if it is the current one
   * (ConflictError otherwise). Deleting an absent key without a revision
   * succeeds.
   */
  delete(key: string, options?: { revision?: string }): Promise<void>;
  /** Keys that start with `prefix`, in ascending order. */
  keys(prefix: string): AsyncIterable<string>;
  /** Entries whose keys start with `prefix`, in ascending key order. */
  entries(prefix: string): AsyncIterable<RawKvEntry>;
  /**
   * Yields one `snapshot` event with the current entries under `prefix`,
   * then every put and delete under it, in the order they were written,
   * with nothing missed between the snapshot and the first change. Ends
   * when `signal` aborts or the iterator is returned.
   */
  watch(options: {
    prefix: string;
    signal?: AbortSignal;
  }): AsyncIterable<RawKvEvent>;
}

// ---------------------------------------------------------------------------
// Objects

/** Object buckets as a provider offers them. */
export interface ObjectTransport {
  /** Opens a bucket, creating it with `create`; NotFoundError otherwise. */
  open(bucket: string, options: { create: boolean }): Promise<ObjectStore>;
  list(): Promise<string[]>;
  /** Deletes a bucket and its objects. */
  delete(bucket: string): Promise<void>;
}

/** Metadata of a stored object. */
export interface ObjectInfo {
  name: string;
  size: number;
  /** Opaque version of the content; changes on every write. */
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
  /** Milliseconds since the epoch. */
  updatedAt: number;
}

/** Options of an object write. */
export interface ObjectPutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Write only if no object has the name; ConflictError otherwise. */
  ifAbsent?: boolean;
  /** Write only if the current etag is this one; ConflictError otherwise. */
  ifEtag?: string;
}

/** One object bucket. Names are validated by the core. */
export interface ObjectStore {
  /**
   * Writes an object whole: a reader sees the old content or the new one,
   * never a part. Returns the new metadata.
   */
  put(
    name: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: ObjectPutOptions,
  ): Promise<ObjectInfo>;
  /** The object's metadata and content, or undefined if absent. */
  get(
    name: string,
  ): Promise<{ info: ObjectInfo; body: AsyncIterable<Uint8Array> } | undefined>;
  head(name: string): Promise<ObjectInfo | undefined>;
  /** Objects whose names start with `prefix`, in ascending name order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Deletes an object; with `ifEtag`, only if it is the current etag
   * (ConflictError otherwise). Returns whether it existed.
   */
  delete(name: string, options?: { ifEtag?: string }): Promise<boolean>;
}

// ---------------------------------------------------------------------------
// Request/reply

/** Handles one request and returns the reply's bytes. */
export type RawRequestHandler = (request: Uint8Array) => Promise<Uint8Array>;

/** Request/reply as a provider offers it. Payloads are opaque bytes. */
export interface RequestTransport {
  /**
   * Serves `subject`. Servers of one subject share requests (each request
   * goes to one of them) and all of them receive gathers.
   */
  serve(
    subject: string,
    handler: RawRequestHandler,
  ): Promise<{ close(): Promise<void> }>;
  /**
   * Sends a request and resolves with the first reply. TimeoutError after
   * `timeoutMs`; NoRespondersError if nobody serves the subject.
   */
  request(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array>;
  /**
   * Sends one request to every server of `subject` and collects their
   * replies until `timeoutMs` passes or `expected` replies arrived.
   */
  gather(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number; expected?: number },
  ): Promise<Uint8Array[]>;
}

// ---------------------------------------------------------------------------
// Idempotency

/** Idempotency tables as a provider offers them. */
export interface IdempotencyTransport {
  /** Opens (creating if absent) the table of idempotency records. */
  open(table: string): Promise<IdempotencyStore>;
}

/**
 * A record of one message handled by one group. The layout follows the one
 * AWS Lambda Powertools uses for its idempotency table.
 */
export interface IdempotencyRecord {
  /** `{group}#{messageId}`. */
  id: string;
  status: 'INPROGRESS' | 'COMPLETED';
  /** When the record may be forgotten, in seconds since the epoch. */
  expiration: number;
  /** When an INPROGRESS lease lapses, in ms since the epoch. */
  inProgressExpiration?: number;
  /** The handler's result, JSON-encoded, once COMPLETED. */
  data?: string;
  /** Who holds the INPROGRESS lease. */
  owner?: string;
}

/** The outcome of trying to start handling a message. */
export type BeginOutcome =
  /** The caller holds the lease and must run the handler. */
  | { status: 'acquired' }
  /** Already handled; `data` is the stored result. */
  | { status: 'completed'; data?: string }
  /** Someone else holds a lease that lapses at `until` (ms). */
  | { status: 'in-progress'; until: number };

/**
 * A table of idempotency records. Each operation is atomic on the record
 * (a conditional write): of two callers that race, exactly one acquires.
 */
export interface IdempotencyStore {
  /**
   * Acquires the record for `owner` if it is absent, expired, or INPROGRESS
   * with a lapsed lease; reports it otherwise.
   */
  begin(
    id: string,
    options: { owner: string; leaseMs: number; ttlMs: number },
  ): Promise<BeginOutcome>;
  /**
   * Marks the record COMPLETED with `data`, only if `owner` still holds the
   * lease; ConflictError otherwise.
   */
  complete(
    id: string,
    options: { owner: string; data?: string; ttlMs: number },
  ): Promise<void>;
  /** Extends `owner`'s lease; ConflictError if it does not hold it. */
  extend(
    id: string,
    options: { owner: string; leaseMs: number },
  ): Promise<void>;
  /** Removes `owner`'s INPROGRESS record so a retry can run. */
  release(id: string, options: { owner: string }): Promise<void>;
  /** The record, for inspection and tests. */
  get(id: string): Promise<IdempotencyRecord | undefined>;
}
