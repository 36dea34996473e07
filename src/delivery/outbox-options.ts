/**
 * Options of the producer outbox: their defaults, applied in one place,
 * and their validation when the outbox is opened.
 */
import type { BackoffOptions } from '../core/channel.ts';
import { ConfigurationError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { WireMessage } from '../core/message.ts';
import {
  definedFields,
  durationOption,
  integerOption,
} from '../core/options.ts';
import type { TransportPublishOutcome } from '../core/provider.ts';
import { type Backoff, resolveBackoff } from './backoff.ts';

/**
 * Hands messages of one channel to the transport, as
 * `ChannelTransport.publish` does: one outcome per message, in order.
 */
export type OutboxSend = (
  channel: string,
  messages: readonly WireMessage[],
) => Promise<TransportPublishOutcome[]>;

/** Options of {@link openOutbox}. */
export interface OutboxOptions {
  /** The SQLite file of the outbox, created with its folder if absent. */
  path: string;
  /**
   * Forwards messages to the transport. Called at send time, never
   * captured, so a function that looks up the current transport follows
   * a switch of transports.
   */
  send: OutboxSend;
  /** Where relay failures and refusals are logged. Default silent. */
  logger?: Logger;
  /**
   * Pause after a transient failure before the channel is tried again,
   * growing with each failure in a row. Default `initialDelayMs` 100,
   * `maxDelayMs` 5000, `multiplier` 2, full jitter: delivery resumes at
   * most about 5 s after the transport is back.
   */
  backoff?: BackoffOptions;
  /** Most messages handed to `send` in one call. Default 100. */
  batchSize?: number;
  /** Most calls to `send` under way at once. Default 4. */
  concurrency?: number;
  /**
   * How long a claim on rows lasts, in ms, renewed while the send is
   * under way. The rows of a relay that crashed are sent again by
   * another once it lapses. Default 30000.
   */
  leaseMs?: number;
  /**
   * How often the relay looks for rows written or released by other
   * processes, in ms. Default 1000.
   */
  pollIntervalMs?: number;
  /**
   * `full` (the default): a resolved publish survives a power loss, at
   * the cost of an fsync per group of publishes; `normal`: it survives a
   * crash of the process (kill -9) but not of the machine.
   */
  synchronous?: 'full' | 'normal';
}

/** The options with every default applied. */
export interface ResolvedOutboxOptions {
  path: string;
  send: OutboxSend;
  logger: Logger;
  backoff: Backoff;
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  synchronous: 'full' | 'normal';
}

/** Defaults of the outbox's backoff: capped low, to resume quickly. */
export const OUTBOX_BACKOFF: Readonly<Required<BackoffOptions>> = Object.freeze(
  {
    initialDelayMs: 100,
    maxDelayMs: 5_000,
    multiplier: 2,
    jitter: 'full',
  },
);

/** Defaults of {@link OutboxOptions}. */
export const OUTBOX_DEFAULTS = Object.freeze({
  batchSize: 100,
  concurrency: 4,
  leaseMs: 30_000,
  pollIntervalMs: 1_000,
  synchronous: 'full',
} as const);

/**
 * Validates `options` and applies the defaults. Throws a
 * ConfigurationError naming the field (`outbox.<field>`) and the value.
 */
export function resolveOutboxOptions(
  options: OutboxOptions,
): ResolvedOutboxOptions {
  const { path, send, synchronous = OUTBOX_DEFAULTS.synchronous } = options;
  if (typeof path !== 'string' || path === '') {
    throw new ConfigurationError(
      `outbox.path must be a non-empty file path, got ${JSON.stringify(path)}`,
      { field: 'outbox.path', value: path },
    );
  }
  if (typeof send !== 'function') {
    throw new ConfigurationError(
      'outbox.send must be a function that publishes messages of a channel',
      { field: 'outbox.send', value: typeof send },
    );
  }
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new ConfigurationError(
      `outbox.synchronous must be 'full' or 'normal', got ${JSON.stringify(synchronous)}`,
      { field: 'outbox.synchronous', value: synchronous },
    );
  }

  return {
    path,
    send,
    logger: options.logger ?? silentLogger,
    backoff: resolveBackoff(
      { ...OUTBOX_BACKOFF, ...definedFields(options.backoff ?? {}) },
      'outbox.backoff',
    ),
    batchSize: integerOption(
      options.batchSize,
      OUTBOX_DEFAULTS.batchSize,
      'outbox.batchSize',
    ),
    concurrency: integerOption(
      options.concurrency,
      OUTBOX_DEFAULTS.concurrency,
      'outbox.concurrency',
    ),
    leaseMs: durationOption(
      options.leaseMs,
      OUTBOX_DEFAULTS.leaseMs,
      'outbox.leaseMs',
      100,
    ),
    pollIntervalMs: durationOption(
      options.pollIntervalMs,
      OUTBOX_DEFAULTS.pollIntervalMs,
      'outbox.pollIntervalMs',
      1,
    ),
    synchronous,
  };
}
