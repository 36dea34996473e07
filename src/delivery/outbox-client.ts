/**
 * The producer outbox of one client: its settings, opened on first use,
 * relaying to whichever channel transport the client uses at send time.
 *
 * Channels published with `confirm: 'outbox'` declare how they are made
 * to exist on the transport; the relay does that before it first sends
 * on a channel, so that a publish into the outbox never waits for the
 * transport, even for a new channel.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Capabilities } from '../core/capabilities.ts';
import type { BackoffOptions } from '../core/channel.ts';
import { ConfigurationError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { WireMessage } from '../core/message.ts';
import { durationOption } from '../core/options.ts';
import type {
  ChannelTransport,
  TransportPublishOutcome,
} from '../core/provider.ts';
import {
  type DrainedOptions,
  type FailedMessage,
  OUTBOX_CLOSE_TIMEOUT_MS,
  type Outbox,
  type OutboxChannelStats,
  type OutboxStats,
  openOutbox,
} from './outbox.ts';
import { resolveOutboxOptions } from './outbox-options.ts';
import { inspectOutbox } from './outbox-stats.ts';

/** Default {@link OutboxSettings.path}, beside the local provider's data. */
export const DEFAULT_OUTBOX_PATH = '.switchyard/outbox.db';

/** The outbox settings of a client (`SwitchyardOptions.outbox`). */
export interface OutboxSettings {
  /**
   * The SQLite file of the outbox, relative to the working directory.
   * Processes that share it share the outbox: any of them relays what
   * the others left. Default `.switchyard/outbox.db`.
   */
  path?: string;
  /**
   * Most messages relayed in one transport call. Default 100, and never
   * more than the channel provider's `maxBatchSize`.
   */
  batchSize?: number;
  /** Most transport calls under way at once. Default 4. */
  concurrency?: number;
  /** Lease of the rows a relay claims, in ms. Default 30000. */
  leaseMs?: number;
  /** How often the relay looks for others' rows, in ms. Default 1000. */
  pollIntervalMs?: number;
  /** Retry pauses; default 100 ms doubling up to 5000 ms, jittered. */
  backoff?: BackoffOptions;
  /**
   * `full` (default): a confirmed publish survives a power loss;
   * `normal`: it survives a crash of the process.
   */
  synchronous?: 'full' | 'normal';
  /**
   * How long `close()` of the client keeps relaying before it closes
   * the outbox, in ms; what is left stays in the file. Default 5000.
   */
  closeTimeoutMs?: number;
}

/** The client's view of its outbox (`client.outbox`). */
export interface OutboxAccess {
  /** The outbox file, absolute. */
  readonly path: string;
  /**
   * Depth, oldest age and failed count, per channel and in all. Reads
   * the file even when this client has not opened the outbox (zeros when
   * there is none); the relay counters are this client's.
   */
  stats(): OutboxStats;
  /** Messages the transport refused for good, oldest first. */
  failed(options?: { channel?: string; limit?: number }): FailedMessage[];
  /**
   * Resolves true once nothing waits in the outbox, false on timeout or
   * abort. Opens the outbox, and so relays, when its file exists.
   */
  drained(options?: DrainedOptions): Promise<boolean>;
}

/** The outbox of one client, as the runtime keeps it. */
export interface ClientOutbox extends OutboxAccess {
  /** The outbox, opened (and relaying) on first call. */
  open(): Outbox;
  /** The outbox if opened, or if its file exists (then opened). */
  existing(): Outbox | undefined;
  /**
   * The figures of `channel` in the outbox (zeros when it has none
   * there), or undefined when there is no outbox file.
   */
  channelStats(channel: string): OutboxChannelStats | undefined;
  /**
   * Records how channel `channel` is made to exist on the transport; the
   * relay awaits it before sending on that channel.
   */
  declare(channel: string, ensure: () => Promise<void>): void;
  /** Holds the relay (once opened, if it is not yet) until released. */
  hold(): () => void;
  /** Closes the outbox, if opened, after relaying up to the deadline. */
  close(): Promise<void>;
}

/** What a client's outbox relays through. */
export interface ClientOutboxContext {
  settings: OutboxSettings | undefined;
  logger: Logger;
  /** The channel transport in use now. */
  transport(): ChannelTransport;
  /** Its capabilities now. */
  capabilities(): Capabilities;
}

/**
 * The outbox of a client with `settings`, validated now and opened on
 * first use. Throws a ConfigurationError naming `outbox.<field>`.
 */
export function createClientOutbox(context: ClientOutboxContext): ClientOutbox {
  const { closeTimeoutMs: closeTimeout, ...settings } = checkSettings(
    context.settings ?? {},
  );
  const path = resolve(settings.path ?? DEFAULT_OUTBOX_PATH);
  const closeTimeoutMs = durationOption(
    closeTimeout,
    OUTBOX_CLOSE_TIMEOUT_MS,
    'outbox.closeTimeoutMs',
  );
  const declared = new Map<string, () => Promise<void>>();
  const holds = new Set<{ release?: () => void }>();
  let outbox: Outbox | undefined;

  const send = async (
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> => {
    await declared.get(channel)?.();
    const transport = context.transport();
    const size = Math.max(
      1,
      Math.min(messages.length, context.capabilities().maxBatchSize),
    );
    const outcomes: TransportPublishOutcome[] = [];
    for (let start = 0; start < messages.length; start += size) {
      const chunk = messages.slice(start, start + size);
      outcomes.push(...(await transport.publish(channel, chunk)));
    }
    return outcomes;
  };

  const options = { ...settings, path, send, logger: context.logger };
  // Validated now, so that a bad setting fails when the client is made.
  resolveOutboxOptions(options);

  const open = (): Outbox => {
    if (outbox !== undefined) return outbox;
    outbox = openOutbox(options);
    for (const hold of holds) hold.release = outbox.hold();
    context.logger.info('outbox opened', { path });
    return outbox;
  };
  const existing = (): Outbox | undefined =>
    outbox ?? (existsSync(path) ? open() : undefined);

  return {
    path,
    open,
    existing,
    declare(channel, ensure) {
      declared.set(channel, ensure);
    },
    hold() {
      const hold: { release?: () => void } = {};
      if (outbox !== undefined) hold.release = outbox.hold();
      holds.add(hold);
      return () => {
        if (!holds.delete(hold)) return;
        hold.release?.();
      };
    },
    stats() {
      return outbox?.stats() ?? inspectOutbox(path);
    },
    channelStats(channel) {
      if (outbox === undefined && !existsSync(path)) return undefined;
      const figures = (outbox?.stats() ?? inspectOutbox(path)).channels;
      return figures[channel] ?? { depth: 0, oldestAgeMs: 0, failed: 0 };
    },
    failed(options) {
      return existing()?.failed(options) ?? [];
    },
    async drained(options) {
      return (await existing()?.drained(options)) ?? true;
    },
    async close() {
      await outbox?.close({ timeoutMs: closeTimeoutMs });
    },
  };
}

const FIELDS = new Set([
  'path',
  'batchSize',
  'concurrency',
  'leaseMs',
  'pollIntervalMs',
  'backoff',
  'synchronous',
  'closeTimeoutMs',
]);

function checkSettings(settings: OutboxSettings): OutboxSettings {
  if (typeof settings !== 'object' || settings === null) {
    throw new ConfigurationError(
      `outbox must be an object of settings, got ${JSON.stringify(settings)}`,
      { field: 'outbox', value: settings },
    );
  }
  for (const field of Object.keys(settings)) {
    if (!FIELDS.has(field)) {
      throw new ConfigurationError(
        `outbox.${field} is not a known setting (known here: ${[...FIELDS].join(', ')})`,
        { field: `outbox.${field}`, value: (settings as never)[field] },
      );
    }
  }
  const { path } = settings;
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new ConfigurationError(
      `outbox.path must be a non-empty file path, got ${JSON.stringify(path)}`,
      { field: 'outbox.path', value: path },
    );
  }
  return settings;
}

/**
 * What a client shows of its outbox (`client.outbox`): the figures, the
 * failed messages and draining, not the relay's controls.
 */
export function outboxAccess(outbox: ClientOutbox): OutboxAccess {
  return {
    path: outbox.path,
    stats: () => outbox.stats(),
    failed: (options) => outbox.failed(options),
    drained: (options) => outbox.drained(options),
  };
}
