/**
 * Subscription and pull-consumer options with their defaults applied and
 * checked against the provider's capabilities, once, when the subscription
 * is set up: a bad value or a missing feature fails there, never at the
 * first message.
 */
import { randomBytes } from 'node:crypto';
import { type Capabilities, supports } from '../core/capabilities.ts';
import type {
  ConsumerMode,
  ConsumerOptions,
  Guarantee,
  SubscribeOptions,
} from '../core/channel.ts';
import { CapabilityError, ConfigurationError } from '../core/errors.ts';
import { assertName } from '../core/names.ts';
import { durationOption, integerOption } from '../core/options.ts';
import { type Backoff, resolveBackoff } from './backoff.ts';

/** Default of `SubscribeOptions.maxAttempts` and `ConsumerOptions`. */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** Default lease of a delivery, in ms. */
export const DEFAULT_LEASE_MS = 30_000;
/** Default long-poll wait of a fetch, in ms. */
export const DEFAULT_WAIT_MS = 1_000;
/** Default table of idempotency records. */
export const DEFAULT_IDEMPOTENCY_TABLE = 'switchyard-idempotency';
/** Default time a completed idempotency record is kept: 24 hours. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const GUARANTEES: readonly Guarantee[] = [
  'at-most-once',
  'at-least-once',
  'exactly-once',
];

/** Who consumes: a named group, or this instance's broadcast consumer. */
export interface ResolvedMode {
  mode: 'group' | 'broadcast';
  /** The group, or a name unique to this broadcast consumer. */
  name: string;
}

/** A subscription's options, complete and valid. */
export interface SubscribePolicy extends ResolvedMode {
  guarantee: Guarantee;
  concurrency: number;
  maxAttempts: number;
  backoff: Backoff;
  leaseMs: number;
  batchSize: number;
  waitMs: number;
  idempotencyTable: string;
  idempotencyTtlMs: number;
}

/** A pull consumer's options, complete and valid. */
export interface ConsumerPolicy extends ResolvedMode {
  leaseMs: number;
  maxAttempts: number;
}

/**
 * Applies the defaults documented on {@link SubscribeOptions} and checks
 * them; a bad value is a `ConfigurationError` naming `subscribe.<field>`,
 * broadcast on a provider without it a `CapabilityError`.
 */
export function resolveSubscribeOptions(
  options: SubscribeOptions,
  capabilities: Capabilities,
): SubscribePolicy {
  const mode = resolveMode(options, capabilities, 'subscribe');
  const guarantee = options.guarantee ?? 'at-least-once';
  if (!GUARANTEES.includes(guarantee)) {
    throw new ConfigurationError(
      `subscribe.guarantee must be one of ${GUARANTEES.join(', ')}, got ${JSON.stringify(guarantee)}`,
      { field: 'subscribe.guarantee', value: guarantee },
    );
  }
  const concurrency = integerOption(
    options.concurrency,
    1,
    'subscribe.concurrency',
  );

  return {
    ...mode,
    guarantee,
    concurrency,
    maxAttempts: integerOption(
      options.maxAttempts,
      DEFAULT_MAX_ATTEMPTS,
      'subscribe.maxAttempts',
    ),
    backoff: resolveBackoff(options.backoff, 'subscribe.backoff'),
    leaseMs: durationOption(
      options.leaseMs,
      DEFAULT_LEASE_MS,
      'subscribe.leaseMs',
      1,
    ),
    batchSize: integerOption(
      options.batchSize,
      concurrency * 2,
      'subscribe.batchSize',
    ),
    waitMs: durationOption(options.waitMs, DEFAULT_WAIT_MS, 'subscribe.waitMs'),
    idempotencyTable: resolveTable(options.idempotency?.table),
    idempotencyTtlMs: durationOption(
      options.idempotency?.ttlMs,
      DEFAULT_IDEMPOTENCY_TTL_MS,
      'subscribe.idempotency.ttlMs',
      1,
    ),
  };
}

/** Applies the defaults documented on {@link ConsumerOptions}. */
export function resolveConsumerOptions(
  options: ConsumerOptions,
  capabilities: Capabilities,
): ConsumerPolicy {
  return {
    ...resolveMode(options, capabilities, 'consumer'),
    leaseMs: durationOption(
      options.leaseMs,
      DEFAULT_LEASE_MS,
      'consumer.leaseMs',
      1,
    ),
    maxAttempts: integerOption(
      options.maxAttempts,
      DEFAULT_MAX_ATTEMPTS,
      'consumer.maxAttempts',
    ),
  };
}

function resolveMode(
  options: ConsumerMode,
  capabilities: Capabilities,
  field: string,
): ResolvedMode {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError(
      `${field} options must give a group or broadcast: true`,
      { field, value: options },
    );
  }
  const { group } = options as { group?: unknown };
  if (options.broadcast === true) {
    if (group !== undefined) {
      throw new ConfigurationError(
        `${field} takes a group or broadcast: true, not both`,
        { field: `${field}.group`, value: group },
      );
    }
    if (!supports(capabilities, 'broadcast')) {
      throw new CapabilityError(
        `broadcast consumers are not supported: ${capabilities.unsupported.broadcast}`,
        { feature: 'broadcast' },
      );
    }
    return { mode: 'broadcast', name: broadcastName() };
  }
  if (group === undefined) {
    throw new ConfigurationError(
      `${field} options must give a group or broadcast: true`,
      { field: `${field}.group`, value: undefined },
    );
  }

  return { mode: 'group', name: assertName('group', group) };
}

/**
 * A name for one broadcast consumer that is unique to it and valid as a
 * group name, since providers may name resources after it.
 */
function broadcastName(): string {
  return `broadcast-${randomBytes(6).toString('hex')}`;
}

function resolveTable(table: string | undefined): string {
  if (table === undefined) return DEFAULT_IDEMPOTENCY_TABLE;
  try {
    return assertName('bucket', table);
  } catch (cause) {
    throw new ConfigurationError(
      `subscribe.idempotency.table ${JSON.stringify(table)} is not a valid table name: use 3 to 40 lowercase letters, digits and single hyphens`,
      { field: 'subscribe.idempotency.table', value: table, cause },
    );
  }
}
