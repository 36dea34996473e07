/**
 * The producer outbox: a publish is written to a local SQLite file (WAL)
 * and resolves once that write is durable; a relay then forwards the
 * messages to the transport, retrying with backoff while it is down, so
 * that neither a producer crash nor a broker outage loses a confirmed
 * message.
 *
 * What the relay promises:
 * - Per (channel, ordering key), a message is handed to the transport
 *   only after every earlier one of that key was accepted (or refused
 *   for good). Messages without a key go in parallel batches, in no
 *   particular order.
 * - A transient failure (the transport unreachable, a timeout, a missing
 *   channel, anything not listed below) pauses the channel with
 *   exponential backoff and jitter, then tries again, without end.
 * - A permanent refusal (`ValidationError`, `PayloadTooLargeError`,
 *   `PermanentError`, `ConfigurationError`) moves the message to the
 *   failed messages with its reason, logged at error and listed by
 *   {@link Outbox.failed}; the messages after it on its key go on.
 * - Another process opening the same file relays what is left. Rows are
 *   claimed with a lease renewed while their send is under way, so two
 *   relays never send the same row at the same time; the claims of a
 *   relay that crashed lapse after `leaseMs`.
 *
 * Delivery to the transport is at least once: a relay that crashes (or a
 * power loss under `synchronous: 'normal'` for the relay's own writes)
 * after the transport accepted a message but before its row was removed
 * sends it again, with the same message id. Transports with a dedup
 * window drop such a re-send, and exactly-once consumers skip it.
 */
import { randomUUID } from 'node:crypto';
import {
  ClosedError,
  ConfigurationError,
  PayloadTooLargeError,
  PermanentError,
  SwitchyardError,
  ValidationError,
} from '../core/errors.ts';
import type { WireMessage } from '../core/message.ts';
import type { TransportPublishOutcome } from '../core/provider.ts';
import { backoffDelay } from './backoff.ts';
import {
  type OutboxOptions,
  type ResolvedOutboxOptions,
  resolveOutboxOptions,
} from './outbox-options.ts';
import { type OutboxStats, storeFigures } from './outbox-stats.ts';
import {
  type ClaimedRow,
  OutboxStore,
  type RowOutcome,
  type StoredFailure,
} from './outbox-store.ts';

export type { OutboxOptions, OutboxSend } from './outbox-options.ts';
export type { OutboxChannelStats, OutboxStats } from './outbox-stats.ts';

/** Most messages written to the file in one transaction. */
const MAX_MESSAGES_PER_WRITE = 4096;

/** Default deadline of {@link Outbox.close}, in ms. */
export const OUTBOX_CLOSE_TIMEOUT_MS = 5_000;

/** A message the transport refused for good, with why. */
export type FailedMessage = StoredFailure;

/** Options of {@link Outbox.drained}. */
export interface DrainedOptions {
  /** Give up after this long, in ms. Default: wait without end. */
  timeoutMs?: number;
  /** Aborting it gives up at once. */
  signal?: AbortSignal;
}

/** An open producer outbox. */
export interface Outbox {
  /** The outbox file. */
  readonly path: string;
  /**
   * Writes `messages` of `channel` to the outbox and resolves, once the
   * write is durable, with one outcome per message (`ok`, never a
   * duplicate, no channel sequence: the transport has not seen them
   * yet). Publishes of one event-loop turn share one transaction, and so
   * one fsync. A write the file refuses (full, busy past 10 s) gives a
   * failed outcome with a TransportUnavailableError. Rejects with a
   * ClosedError once `close()` was called. The same signature as
   * `ChannelTransport.publish`, so the outbox stands where the
   * transport stands.
   */
  publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]>;
  /**
   * Depth and age of what waits, per channel and in all, with this
   * relay's counters. Throws a ClosedError once closed.
   */
  stats(): OutboxStats;
  /**
   * Messages the transport refused for good, oldest first: all, or those
   * of `channel`; at most `limit` (default 100).
   */
  failed(options?: { channel?: string; limit?: number }): FailedMessage[];
  /**
   * Pauses relaying until the returned function is called: no new send
   * starts, sends under way finish, and publishing into the outbox goes
   * on. Holds nest; relaying resumes when every one is released.
   * Calling a release twice releases once.
   */
  hold(): () => void;
  /**
   * Resolves true once no message waits in the file (in any process),
   * false when `timeoutMs` passed or `signal` aborted first.
   */
  drained(options?: DrainedOptions): Promise<boolean>;
  /**
   * Refuses new publishes, commits those already made, relays until the
   * file is empty or `timeoutMs` (default 5000) passed, waits for sends
   * under way within that deadline, then closes the file. Whatever is
   * left stays durable and is relayed by the next process that opens the
   * file. A held outbox is not flushed. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Opens the outbox file at `options.path` (created if absent) and starts
 * its relay, which first relays what an earlier process left. Throws a
 * ConfigurationError for a bad option or a file that cannot be opened.
 *
 * @example
 * const outbox = openOutbox({
 *   path: '.switchyard/outbox.db',
 *   send: (channel, messages) => provider.channels!.publish(channel, messages),
 * });
 * await outbox.publish('orders', [message]); // durable here
 * await outbox.close({ timeoutMs: 5000 });   // relayed, or kept for later
 */
export function openOutbox(options: OutboxOptions): Outbox {
  return new RelayedOutbox(resolveOutboxOptions(options));
}

/**
 * Whether the transport refused a message for good: it can never take
 * it as it is, so it goes to the failed messages instead of being tried
 * again.
 */
export function isPermanentRefusal(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof PayloadTooLargeError ||
    error instanceof PermanentError ||
    error instanceof ConfigurationError
  );
}

interface PendingWrite {
  messages: readonly WireMessage[];
  resolve(outcomes: TransportPublishOutcome[]): void;
}

/** Backoff of one channel after transient failures in a row. */
interface ChannelBackoff {
  failures: number;
  resumeAt: number;
}

class RelayedOutbox implements Outbox {
  readonly path: string;
  readonly #options: ResolvedOutboxOptions;
  readonly #store: OutboxStore;
  readonly #pending: PendingWrite[] = [];
  readonly #backoff = new Map<string, ChannelBackoff>();
  /** Sends under way per channel. */
  readonly #sending = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  readonly #heartbeat: NodeJS.Timeout;
  #flushScheduled = false;
  #wake: NodeJS.Timeout | undefined;
  #sends = 0;
  #inFlight = 0;
  #holds = 0;
  #relayed = 0;
  #retried = 0;
  #lastError: OutboxStats['lastError'];
  #accepting = true;
  #relaying = true;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedOutboxOptions) {
    this.#options = options;
    this.path = options.path;
    this.#store = new OutboxStore(options.path, randomUUID());
    this.#heartbeat = setInterval(
      () => this.#renew(),
      Math.max(50, Math.floor(options.leaseMs / 3)),
    );
    this.#heartbeat.unref();
    setImmediate(() => this.#pump());
  }

  publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> {
    if (!this.#accepting) {
      return Promise.reject(
        new ClosedError(
          `the outbox ${this.path} is closed: cannot publish on channel '${channel}'`,
          { details: { channel } },
        ),
      );
    }
    if (messages.length === 0) return Promise.resolve([]);
    const rows = messages.map((m) =>
      m.channel === channel ? m : { ...m, channel },
    );

    return new Promise((resolve) => {
      this.#pending.push({ messages: rows, resolve });
      this.#scheduleFlush();
    });
  }

  stats(): OutboxStats {
    this.#assertOpen('read the outbox stats');
    return {
      path: this.path,
      ...storeFigures(this.#store),
      inFlight: this.#inFlight,
      relayed: this.#relayed,
      retried: this.#retried,
      held: this.#holds > 0,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  failed(options: { channel?: string; limit?: number } = {}) {
    this.#assertOpen('list the failed messages');
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new ConfigurationError(
        `failed: limit must be an integer >= 1, got ${String(limit)}`,
        { field: 'limit', value: limit },
      );
    }
    return this.#store.failures(options.channel, limit);
  }

  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      if (this.#holds === 0) this.#pump();
    };
  }

  async drained(options: DrainedOptions = {}): Promise<boolean> {
    const { signal } = options;
    const deadline =
      options.timeoutMs === undefined
        ? Number.POSITIVE_INFINITY
        : Date.now() + options.timeoutMs;
    for (;;) {
      this.#assertOpen('wait for the outbox to drain');
      if (this.#pending.length === 0 && this.#store.isEmpty()) return true;
      const left = deadline - Date.now();
      if (signal?.aborted || left <= 0) return false;
      await this.#change(Math.min(left, this.#options.pollIntervalMs), signal);
    }
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(
      options.timeoutMs ?? OUTBOX_CLOSE_TIMEOUT_MS,
    );
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#accepting = false;
    while (this.#pending.length > 0) this.#flush();
    const deadline = Date.now() + timeoutMs;

    if (this.#holds === 0) await this.drained({ timeoutMs });
    this.#relaying = false;
    while (this.#sends > 0 && Date.now() < deadline) {
      await this.#change(deadline - Date.now());
    }

    clearInterval(this.#heartbeat);
    clearTimeout(this.#wake);
    const left = this.#store.isEmpty() ? 0 : this.stats().depth;
    this.#store.close();
    this.#notify();
    this.#options.logger.info('outbox closed', {
      path: this.path,
      left,
      abandonedSends: this.#sends,
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
      if (this.#pending.length > 0) this.#scheduleFlush();
    });
  }

  /** Writes the publishes waiting, up to a transaction's worth. */
  #flush(): void {
    let count = 0;
    let take = 0;
    while (take < this.#pending.length && count < MAX_MESSAGES_PER_WRITE) {
      count += this.#pending[take]!.messages.length;
      take++;
    }
    const batch = this.#pending.splice(0, take);
    if (batch.length === 0) return;

    try {
      this.#store.append(
        batch.flatMap((write) => write.messages),
        this.#options.synchronous,
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const write of batch) {
        write.resolve(
          write.messages.map(() => ({ ok: false, error: failure })),
        );
      }
      return;
    }

    for (const write of batch) {
      write.resolve(write.messages.map(() => ({ ok: true, duplicate: false })));
    }
    this.#notify();
    this.#pump();
  }

  /** Starts sends while there is room, then sets the next wake-up. */
  #pump(): void {
    if (!this.#relaying || this.#holds > 0 || !this.#store.open) return;
    const { batchSize, concurrency, leaseMs } = this.#options;

    while (this.#sends < concurrency) {
      this.#store.excludeChannels(this.#blockedChannels());
      let rows: ClaimedRow[];
      try {
        rows = this.#store.claim(batchSize, leaseMs);
      } catch (error) {
        this.#options.logger.warn('outbox: cannot claim rows to relay', {
          path: this.path,
          error: describe(error),
        });
        break;
      }
      if (rows.length === 0) break;
      for (const [channel, group] of byChannel(rows)) {
        void this.#send(channel, group);
      }
    }
    this.#scheduleWake();
  }

  /**
   * Channels not to claim from now: those pausing after a failure, and
   * those being probed after one (a single send at a time).
   */
  #blockedChannels(): string[] {
    const now = Date.now();
    const blocked: string[] = [];
    for (const [channel, state] of this.#backoff) {
      const probing = (this.#sending.get(channel) ?? 0) > 0;
      if (state.resumeAt > now || probing) blocked.push(channel);
    }
    return blocked;
  }

  async #send(channel: string, rows: readonly ClaimedRow[]): Promise<void> {
    this.#sends++;
    this.#inFlight += rows.length;
    this.#sending.set(channel, (this.#sending.get(channel) ?? 0) + 1);

    let answers: (TransportPublishOutcome | { ok: false; error: unknown })[];
    try {
      const outcomes = await this.#options.send(
        channel,
        rows.map((row) => row.message),
      );
      answers = rows.map(
        (_, index) =>
          outcomes[index] ?? {
            ok: false,
            error: new TypeError(
              `the transport returned no outcome for message ${index + 1} of ${rows.length}`,
            ),
          },
      );
    } catch (error) {
      answers = rows.map(() => ({ ok: false, error }));
    }

    this.#sends--;
    this.#inFlight -= rows.length;
    this.#sending.set(channel, (this.#sending.get(channel) ?? 1) - 1);
    this.#record(channel, rows, answers);
    this.#notify();
    this.#pump();
  }

  /** Writes what became of each row and adjusts the channel's backoff. */
  #record(
    channel: string,
    rows: readonly ClaimedRow[],
    answers: readonly (
      | TransportPublishOutcome
      | { ok: false; error: unknown }
    )[],
  ): void {
    const outcomes: RowOutcome[] = [];
    let transient: unknown;
    let failures = 0;
    for (const [index, row] of rows.entries()) {
      const answer = answers[index]!;
      if (answer.ok) {
        outcomes.push({ seq: row.seq, kind: 'accepted' });
      } else if (isPermanentRefusal(answer.error)) {
        outcomes.push(this.#refused(channel, row, answer.error));
      } else {
        transient ??= answer.error;
        failures++;
        outcomes.push({
          seq: row.seq,
          kind: 'retry',
          error: describe(answer.error),
        });
      }
    }

    if (this.#store.open) {
      try {
        this.#store.settle(outcomes);
      } catch (error) {
        // The rows stay claimed until the lease lapses, then go again.
        this.#options.logger.warn('outbox: cannot record relayed messages', {
          path: this.path,
          channel,
          error: describe(error),
        });
      }
    }
    this.#relayed += outcomes.filter((o) => o.kind === 'accepted').length;
    if (transient === undefined) this.#recovered(channel);
    else this.#failed(channel, transient, failures);
  }

  #refused(channel: string, row: ClaimedRow, error: unknown): RowOutcome {
    const code = error instanceof SwitchyardError ? error.code : undefined;
    const reason = describe(error);
    this.#options.logger.error(
      'outbox: the transport refused a message for good; it is kept with the failed messages',
      { channel, messageId: row.message.id, reason, code },
    );
    return {
      seq: row.seq,
      kind: 'refused',
      reason,
      ...(code !== undefined && { code }),
    };
  }

  #failed(channel: string, error: unknown, messages: number): void {
    const state = this.#backoff.get(channel) ?? { failures: 0, resumeAt: 0 };
    state.failures++;
    const delayMs = backoffDelay(state.failures, this.#options.backoff);
    state.resumeAt = Date.now() + delayMs;
    this.#backoff.set(channel, state);
    this.#retried += messages;
    const code = error instanceof SwitchyardError ? error.code : undefined;
    this.#lastError = {
      channel,
      message: describe(error),
      ...(code !== undefined && { code }),
      at: Date.now(),
    };

    const fields = {
      channel,
      messages,
      failures: state.failures,
      delayMs,
      error: describe(error),
      code,
    };
    if (state.failures === 1) {
      this.#options.logger.warn(
        'outbox: the transport did not take messages; retrying',
        fields,
      );
    } else {
      this.#options.logger.debug('outbox: still retrying', fields);
    }
  }

  #recovered(channel: string): void {
    const state = this.#backoff.get(channel);
    if (state === undefined) return;
    this.#backoff.delete(channel);
    this.#options.logger.info('outbox: relaying again', {
      channel,
      failures: state.failures,
    });
  }

  /** Wakes the relay when the next channel resumes, or to poll. */
  #scheduleWake(): void {
    clearTimeout(this.#wake);
    if (!this.#relaying) return;
    const now = Date.now();
    let delay = this.#options.pollIntervalMs;
    for (const state of this.#backoff.values()) {
      if (state.resumeAt > now) delay = Math.min(delay, state.resumeAt - now);
    }
    this.#wake = setTimeout(() => this.#pump(), Math.max(1, delay));
    this.#wake.unref();
  }

  #renew(): void {
    if (this.#sends === 0 || !this.#store.open) return;
    try {
      this.#store.renew(this.#options.leaseMs);
    } catch (error) {
      this.#options.logger.warn('outbox: cannot renew claims', {
        path: this.path,
        error: describe(error),
      });
    }
  }

  /** Resolves on the next settled send or write, after `ms`, or on abort. */
  #change(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #assertOpen(operation: string): void {
    if (!this.#store.open) {
      throw new ClosedError(
        `cannot ${operation}: the outbox ${this.path} is closed`,
      );
    }
  }
}

function byChannel(rows: readonly ClaimedRow[]): Map<string, ClaimedRow[]> {
  const groups = new Map<string, ClaimedRow[]>();
  for (const row of rows) {
    const group = groups.get(row.message.channel);
    if (group === undefined) groups.set(row.message.channel, [row]);
    else group.push(row);
  }
  return groups;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
