/**
 * An open consumer of a channel: pull requests on one durable (group) or
 * instance (broadcast) JetStream consumer, and deliveries settled with
 * JetStream acknowledgements.
 *
 * A fetch that waits keeps pull requests `{ batch }` open for what it
 * asks beyond what is buffered or already requested. Those requests have
 * no `expires`: they stay open until the server has filled them, across
 * fetches, so that the server never finds only lapsed requests when it
 * redelivers a message. (nats-server 2.9 counts a redelivery it could not
 * send for want of a live request, and the message then comes back one
 * lease later with its attempt count one too high.) A fetch returns early
 * with what is there; messages that arrive later wait for the next fetch,
 * and those whose lease expired while they waited are dropped, since the
 * server delivers them again. A fetch that does not wait sends one
 * `{ batch, no_wait }` request, which the server answers at once.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
} from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  nanos,
  type Status,
  type Subscription,
} from '@nats-io/transport-node';
import type { WireMessage } from '../../core/message.ts';
import type {
  ConsumerSpec,
  FetchOptions,
  TransportConsumer,
  TransportDelivery,
} from '../../core/provider.ts';
import type { NatsContext } from './connection.ts';
import { deadLetter } from './dead-letters.ts';
import { API_CODES, apiCode, closed, natsError, notFound } from './errors.ts';
import {
  type HeaderPairs,
  headersOf,
  REPLAY_GROUP_HEADER,
  readNats,
} from './messages.ts';
import { BROADCAST_DESCRIPTION, type ChannelStreams } from './streams.ts';

/** Most deliveries one fetch returns. */
export const MAX_FETCH = 1000;

/**
 * How long a fetch that has messages waits for more of the same burst
 * when the server keeps its request open (a consumer at its
 * `max_ack_pending`), in ms.
 */
const BURST_MS = 2;

/**
 * How long a fetch that does not wait waits for the server's answer
 * before it gives the request up (the connection was lost).
 */
const NO_WAIT_ANSWER_MS = 1000;

/**
 * Shortest pause before one fetch asks again after the server ended its
 * requests without filling them (a lost connection, a full waiting list).
 */
const REPULL_MS = 250;

/** The acknowledgement payload, encoded once. */
const ACK = new TextEncoder().encode('+ACK');

/** Shortest pause between two lease resets of an extension, in ms. */
const MIN_EXTEND_EVERY_MS = 50;

/** The connection's status events, stoppable at runtime. */
type StatusEvents = AsyncIterable<Status> & { stop?(): void };

/** One open pull request, by its reply subject. */
interface PullRequest {
  /** Messages the server may still send; it ends the request at 0. */
  remaining: number;
  /** When it is given up unanswered, in ms since the epoch. */
  giveUpAt: number;
}

/** The JetStream configuration of a consumer of `spec`. */
export function consumerConfig(
  ctx: NatsContext,
  spec: Pick<ConsumerSpec, 'mode' | 'name' | 'leaseMs'>,
  ordered: boolean,
): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.Explicit,
    // Only messages published from now on, on every provider.
    deliver_policy: DeliverPolicy.New,
    ack_wait: nanos(spec.leaseMs),
    // The core counts attempts and dead-letters the delivery over its
    // limit with a reason, so the server never stops delivering by itself.
    max_deliver: -1,
  };
  // One message in flight per consumer keeps the order of every key
  // across its members, retries and expired leases.
  if (ordered) config.max_ack_pending = 1;
  if (spec.mode === 'group') {
    config.durable_name = spec.name;
  } else {
    config.name = spec.name;
    config.description = BROADCAST_DESCRIPTION;
    config.inactive_threshold = nanos(ctx.options.broadcastInactiveMs);
  }
  return config;
}

/**
 * A consumer of one channel, for a worker group or a broadcast instance.
 *
 * An ack resolves once the server has received it (acknowledgements of
 * one turn share one round trip); nak, extend and dead-letter wait for
 * the server to confirm them. Acknowledgements reach the server in the
 * order they are sent, so one confirmed after them follows them. `extend` resets the lease to the consumer's `ack_wait`
 * (the `leaseMs` the consumer was opened with), the only reset JetStream
 * has, and repeats it until the asked length is covered; an extension is
 * thus never shorter than one full lease. Closing sends the
 * messages this consumer received but never handed out back at once;
 * those handed out and not settled come back when their lease expires.
 * Closing a broadcast consumer deletes it from the server.
 *
 * A message whose headers declare a CloudEvent that is not a valid 1.0
 * event (see `readNats`) is dead-lettered with the reason as it arrives,
 * never handed out.
 *
 * A replayed dead letter reaches every consumer of the channel; each
 * consumer other than the group it is replayed to acknowledges it at once
 * without handing it out.
 */
export class NatsConsumer implements TransportConsumer {
  readonly spec: ConsumerSpec;
  readonly names: ChannelStreams;
  readonly #ctx: NatsContext;
  readonly #ordered: boolean;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #buffer: NatsDelivery[] = [];
  readonly #waiters = new Set<() => void>();
  /** Deliveries whose extended lease is being kept. */
  readonly extending = new Set<NatsDelivery>();
  readonly #requests = new Map<string, PullRequest>();
  #flush: Promise<void> | undefined;
  readonly #events: StatusEvents;
  #sent = 0;
  #missing = false;
  #closed = false;

  constructor(
    ctx: NatsContext,
    names: ChannelStreams,
    spec: ConsumerSpec,
    ordered: boolean,
  ) {
    this.#ctx = ctx;
    this.names = names;
    this.spec = spec;
    this.#ordered = ordered;
    this.#inbox = createInbox();
    this.#sub = ctx.nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (error === null) this.#receive(msg);
      },
    });
    this.#events = ctx.nc.status() as StatusEvents;
    this.#watchConnection(this.#events).catch(() => {});
  }

  /** The JetStream context the consumer uses. */
  get context(): NatsContext {
    return this.#ctx;
  }

  async fetch(
    max: number,
    options: FetchOptions,
  ): Promise<TransportDelivery[]> {
    if (this.#closed) {
      throw closed('fetch', `consumer '${this.spec.name}'`);
    }
    const limit = Math.max(1, Math.min(Math.floor(max) || 1, MAX_FETCH));
    const waits = options.waitMs >= 1;
    let until = Date.now() + Math.max(0, options.waitMs);
    /** The request of a fetch that does not wait, until it is answered. */
    let answer: string | undefined;
    let pulledAt = Number.NEGATIVE_INFINITY;

    for (;;) {
      this.#dropExpired();
      const buffered = this.#buffer.length;
      const requested = this.#requested();
      if (buffered >= limit || (buffered > 0 && requested === 0)) {
        return this.#take(limit, options.prefetch === true && waits);
      }
      if (this.#closed || options.signal?.aborted) return this.#take(limit);
      if (this.#missing) await this.#recover();

      if (!waits) {
        if (answer === undefined) {
          answer = this.#pull(limit - buffered, false);
          until = Date.now() + NO_WAIT_ANSWER_MS;
        } else if (!this.#requests.has(answer)) {
          return this.#take(limit);
        }
      } else {
        const wanted = limit - buffered - requested;
        if (wanted > 0 && Date.now() - pulledAt >= REPULL_MS) {
          this.#pull(wanted, true);
          pulledAt = Date.now();
        }
      }

      const wait = buffered > 0 ? BURST_MS : until - Date.now();
      const changed = wait > 0 && (await this.#change(wait, options.signal));
      if (changed) continue;
      if (this.#buffer.length > 0 || Date.now() >= until) {
        if (answer !== undefined) this.#giveUp(answer);
        return this.#take(limit);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.lifecycle.untrack(this);
    this.#sub.unsubscribe();
    this.#events.stop?.();
    this.#wake();

    for (const delivery of [...this.extending]) delivery.stopExtending();
    const unclaimed = this.#buffer.splice(0);
    for (const delivery of unclaimed) delivery.release();
    if (this.spec.mode === 'broadcast') {
      try {
        await this.#ctx.jsm.consumers.delete(this.names.stream, this.spec.name);
      } catch (error) {
        // Gone already: the server removed it, or the channel was deleted.
        const code = apiCode(error);
        if (
          code !== API_CODES.consumerNotFound &&
          code !== API_CODES.streamNotFound
        ) {
          throw natsError(error, 'delete a broadcast consumer', {
            details: { channel: this.names.channel, group: this.spec.name },
          });
        }
      }
    }
  }

  /** Creates the consumer on the server, or updates its lease. */
  async open(): Promise<void> {
    const { stream } = this.names;
    const config = consumerConfig(this.#ctx, this.spec, this.#ordered);
    const details = { channel: this.names.channel, group: this.spec.name };
    try {
      if (this.spec.mode === 'broadcast') {
        await this.#deleteIfPresent();
        await this.#ctx.jsm.consumers.add(stream, config);
        return;
      }
      const existing = await this.#info();
      if (existing === undefined) {
        await this.#ctx.jsm.consumers.add(stream, config);
      } else if (existing.config.ack_wait !== config.ack_wait) {
        await this.#ctx.jsm.consumers.update(stream, this.spec.name, {
          ack_wait: config.ack_wait,
        });
      }
    } catch (error) {
      throw natsError(error, 'open a consumer', {
        details,
        notFound: { kind: 'channel', resource: this.names.channel },
      });
    }
  }

  /** Publishes an acknowledgement without waiting for an answer. */
  send(subject: string, payload: string | Uint8Array): void {
    if (!this.#ctx.nc.isClosed()) this.#ctx.nc.publish(subject, payload);
  }

  /**
   * Resolves once the server has received what was sent before: one
   * round trip for every acknowledgement sent in the same turn of the
   * event loop.
   */
  flushed(operation: string): Promise<void> {
    this.#flush ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        this.#flush = undefined;
        return this.#ctx.nc.flush();
      })
      .catch((error: unknown) => {
        throw natsError(error, operation, {
          details: { channel: this.names.channel, group: this.spec.name },
        });
      });
    return this.#flush;
  }

  /**
   * Sends a pull request for `batch` messages: one the server keeps open
   * until it is filled (`standing`), or one it answers at once.
   */
  #pull(batch: number, standing: boolean): string {
    this.#sent += 1;
    const subject = `${this.#inbox}.${this.#sent}`;
    this.#requests.set(subject, {
      remaining: batch,
      giveUpAt: standing
        ? Number.POSITIVE_INFINITY
        : Date.now() + NO_WAIT_ANSWER_MS,
    });
    const request = standing ? { batch } : { batch, no_wait: true };
    const api = this.#ctx.js.apiPrefix;
    this.#ctx.nc.publish(
      `${api}.CONSUMER.MSG.NEXT.${this.names.stream}.${this.spec.name}`,
      JSON.stringify(request),
      { reply: subject },
    );
    return subject;
  }

  /** Messages that open pull requests may still bring. */
  #requested(): number {
    let total = 0;
    for (const request of this.#requests.values()) total += request.remaining;
    return total;
  }

  /**
   * A lost connection takes the open pull request with it: the next
   * fetch sends a new one instead of waiting for an answer that will
   * not come.
   */
  async #watchConnection(events: StatusEvents): Promise<void> {
    for await (const event of events) {
      if (this.#closed) return;
      if (event.type === 'disconnect' || event.type === 'reconnect') {
        this.#requests.clear();
        this.#wake();
      }
    }
  }

  #receive(msg: Msg): void {
    if (msg.reply?.startsWith('$JS.ACK.')) {
      this.#deliver(msg);
    } else {
      this.#status(msg);
    }
    this.#wake();
  }

  #deliver(msg: Msg): void {
    // A delivery carries its stream subject, not the request it fills, so
    // it is counted against the oldest open request; the total stays
    // right. A request the server filled ends without a status.
    for (const [subject, request] of this.#requests) {
      if (--request.remaining <= 0) this.#requests.delete(subject);
      break;
    }
    const headers = headersOf(msg);
    const replayTo = replayGroupOf(headers);
    if (replayTo && replayTo !== this.spec.name) {
      // A dead letter replayed to another group: nothing for this one.
      this.send(msg.reply!, '+ACK');
      return;
    }
    const delivery = new NatsDelivery(this, msg, headers);
    if (this.#closed) {
      delivery.release();
      return;
    }
    if (delivery.problem !== undefined) {
      this.#reject(delivery, delivery.problem);
      return;
    }
    this.#buffer.push(delivery);
  }

  /**
   * Dead-letters a message whose envelope cannot be read, without
   * handing it out; if that fails, it comes back when its lease lapses
   * and is dead-lettered then.
   */
  #reject(delivery: NatsDelivery, problem: string): void {
    const { channel } = this.names;
    const reason = `message ${delivery.channelSequence} of channel '${channel}' is not a valid CloudEvents message: ${problem}`;
    const fields = {
      channel,
      group: this.spec.name,
      sequence: delivery.channelSequence,
      reason,
    };
    delivery.deadLetter(reason).then(
      () => this.#ctx.logger.error('dead-lettered a malformed message', fields),
      (error: unknown) =>
        this.#ctx.logger.warn('could not dead-letter a malformed message', {
          ...fields,
          error: String(error),
        }),
    );
  }

  /** A status of a pull request: 404, 408 and 409 end it, 503 too. */
  #status(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    if (code === 100) return;
    this.#requests.delete(msg.subject);
    const description = msg.headers?.description.toLowerCase() ?? '';
    if (code === 503 || description.includes('deleted')) this.#missing = true;
  }

  /** Gives up a request the server should have answered by now. */
  #giveUp(subject: string): void {
    const request = this.#requests.get(subject);
    if (request && Date.now() >= request.giveUpAt) {
      this.#requests.delete(subject);
    }
  }

  /**
   * Drops buffered deliveries whose lease expired before a fetch took
   * them: the server delivers those again.
   */
  #dropExpired(): void {
    const oldest = Date.now() - this.spec.leaseMs;
    if ((this.#buffer[0]?.receivedAt ?? oldest) > oldest) return;
    const live = this.#buffer.filter((d) => d.receivedAt > oldest);
    this.#buffer.splice(0, this.#buffer.length, ...live);
  }

  /**
   * After the server said the consumer is gone: a broadcast consumer is
   * created again, a group that was deleted is a NotFoundError.
   */
  async #recover(): Promise<void> {
    this.#missing = false;
    this.#requests.clear();
    if ((await this.#info()) !== undefined) return;
    if (this.spec.mode === 'group') {
      throw notFound('consumer', this.spec.name, {
        channel: this.names.channel,
        group: this.spec.name,
      });
    }
    await this.open();
  }

  async #info() {
    try {
      return await this.#ctx.jsm.consumers.info(
        this.names.stream,
        this.spec.name,
      );
    } catch (error) {
      if (apiCode(error) === API_CODES.consumerNotFound) return undefined;
      throw natsError(error, 'look up a consumer', {
        details: { channel: this.names.channel, group: this.spec.name },
        notFound: { kind: 'channel', resource: this.names.channel },
      });
    }
  }

  async #deleteIfPresent(): Promise<void> {
    try {
      await this.#ctx.jsm.consumers.delete(this.names.stream, this.spec.name);
    } catch (error) {
      if (apiCode(error) !== API_CODES.consumerNotFound) throw error;
    }
  }

  /**
   * Hands out up to `limit` buffered deliveries. With `ahead`, a full
   * batch (a backlog) asks the server for the next one at once, so that
   * it sends while the caller handles this one.
   */
  #take(limit: number, ahead = false): NatsDelivery[] {
    const taken = this.#buffer.splice(0, limit);
    if (ahead && taken.length === limit) {
      const wanted = limit - this.#buffer.length - this.#requested();
      if (wanted > 0) this.#pull(wanted, true);
    }
    return taken;
  }

  /** Resolves true on a change, false after `ms` or when `signal` aborts. */
  #change(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(onChange);
        resolve(changed);
      };
      const onChange = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

const REPLAY_GROUP = REPLAY_GROUP_HEADER.toLowerCase();

/** The group a replayed dead letter is meant for, if it is one. */
function replayGroupOf(headers: HeaderPairs): string | undefined {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === REPLAY_GROUP) return value;
  }
  return undefined;
}

/** Fields of a JetStream acknowledgement subject. */
interface AckInfo {
  deliveryCount: number;
  streamSequence: number;
  /** When the stream stored the message, in ms since the epoch. */
  storedAt: number;
}

/** One delivery of a JetStream message. */
export class NatsDelivery implements TransportDelivery {
  readonly message: WireMessage;
  readonly attempt: number;
  readonly channelSequence: number;
  /** When it arrived, in ms since the epoch; its lease runs from then. */
  readonly receivedAt = Date.now();
  readonly #consumer: NatsConsumer;
  readonly #reply: string;
  #extending: NodeJS.Timeout | undefined;

  /** What is wrong with the message's envelope, if anything. */
  readonly problem: string | undefined;

  constructor(consumer: NatsConsumer, msg: Msg, headers: HeaderPairs) {
    const info = parseAckSubject(msg.reply!);
    this.#consumer = consumer;
    this.#reply = msg.reply!;
    this.attempt = info.deliveryCount;
    this.channelSequence = info.streamSequence;
    const read = readNats(consumer.names.channel, headers, msg.data, {
      seq: info.streamSequence,
      storedAt: info.storedAt,
    });
    this.message = read.message;
    this.problem = read.problem;
  }

  ack(): Promise<void> {
    this.stopExtending();
    this.#consumer.send(this.#reply, ACK);
    return this.#consumer.flushed('acknowledge');
  }

  nak(delayMs: number): Promise<void> {
    this.stopExtending();
    const delay = Math.max(0, Math.floor(delayMs));
    const payload =
      delay > 0 ? `-NAK ${JSON.stringify({ delay: nanos(delay) })}` : '-NAK';
    return this.#settle(payload, 'retry');
  }

  /**
   * Keeps the message leased for `leaseMs` from now. JetStream resets a
   * lease only to the consumer's full `ack_wait` (its `leaseMs`), so a
   * longer extension is kept by repeating that reset every half lease
   * until it is reached; a shorter one lasts a full lease.
   */
  async extend(leaseMs: number): Promise<void> {
    this.stopExtending();
    await this.#settle('+WPI', 'extend a lease');
    this.#extendUntil(Date.now() + Math.max(0, leaseMs));
  }

  /** Stops repeating the lease reset of {@link extend}. */
  stopExtending(): void {
    if (this.#extending === undefined) return;
    clearTimeout(this.#extending);
    this.#extending = undefined;
    this.#consumer.extending.delete(this);
  }

  async deadLetter(reason: string): Promise<void> {
    this.stopExtending();
    const { names, spec, context } = this.#consumer;
    await deadLetter(context, names, {
      message: this.message,
      group: spec.name,
      reason,
      attempts: this.attempt,
      sequence: this.channelSequence,
    });
    await this.#settle('+TERM', 'dead-letter');
  }

  /** Returns a message never handed out, at once and unconfirmed. */
  release(): void {
    this.#consumer.send(this.#reply, '-NAK');
  }

  #extendUntil(until: number): void {
    const lease = this.#consumer.spec.leaseMs;
    if (Date.now() + lease >= until) return;
    this.#consumer.extending.add(this);
    this.#extending = setTimeout(
      () => {
        this.#extending = undefined;
        this.#consumer.send(this.#reply, '+WPI');
        this.#extendUntil(until);
      },
      Math.max(MIN_EXTEND_EVERY_MS, Math.floor(lease / 2)),
    );
    this.#extending.unref();
  }

  async #settle(payload: string, operation: string): Promise<void> {
    const { context, names, spec } = this.#consumer;
    try {
      await context.nc.request(this.#reply, payload, {
        timeout: context.options.connectTimeoutMs,
      });
    } catch (error) {
      throw natsError(error, operation, {
        details: {
          channel: names.channel,
          group: spec.name,
          messageId: this.message.id,
        },
        timeoutMs: context.options.connectTimeoutMs,
      });
    }
  }
}

/**
 * The fields of `$JS.ACK.{stream}.{consumer}.{delivered}.{sseq}.{cseq}.{ns}.{pending}`,
 * and of its longer form with a domain and an account hash after `ACK`.
 */
export function parseAckSubject(subject: string): AckInfo {
  const tokens = subject.split('.');
  // The short form has 9 tokens; the long one 12 or more, with the same
  // fields two places later.
  const at = tokens.length >= 12 ? 6 : 4;
  const nanoseconds = tokens[at + 3] ?? '0';
  return {
    deliveryCount: Number(tokens[at]),
    streamSequence: Number(tokens[at + 1]),
    storedAt: Math.floor(Number(nanoseconds) / 1e6),
  };
}
