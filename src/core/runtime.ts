/**
 * What the handles of one client share: the provider of each part, the
 * logger, the publisher sequences and the resources to close. Handles get
 * this instead of the client so that each stays one small file.
 */
import {
  type ClientOutbox,
  createClientOutbox,
  type OutboxSettings,
} from '../delivery/outbox-client.ts';
import {
  type SwitchHooks,
  SwitchingChannels,
  type SwitchOptions,
  type SwitchReport,
} from '../delivery/switching.ts';
import type { Capabilities } from './capabilities.ts';
import { ClosedError, ConfigurationError } from './errors.ts';
import type { Logger } from './logger.ts';
import type {
  ChannelTransport,
  IdempotencyTransport,
  KvTransport,
  ObjectTransport,
  Provider,
  RequestTransport,
} from './provider.ts';
import type { Part } from './switchyard.ts';

const PARTS_BESIDES_CHANNELS: readonly Part[] = [
  'kv',
  'objects',
  'requests',
  'idempotency',
];

/** The transport each part is served by. */
export interface PartTransports {
  channels: ChannelTransport;
  kv: KvTransport;
  objects: ObjectTransport;
  requests: RequestTransport;
  idempotency: IdempotencyTransport;
}

/** Something the client closes when it closes. */
export interface Closable {
  close(): Promise<void>;
}

/** The state one client shares with its handles. */
export interface Runtime {
  readonly instanceId: string;
  readonly logger: Logger;
  /**
   * The largest body a publish accepts when a claim check carries bodies
   * over the provider's limit; undefined without a claim check.
   */
  readonly claimCheckMaxBytes?: number;
  /** The provider chosen for `part`. */
  provider(part: Part): Provider;
  capabilities(part: Part): Capabilities;
  /**
   * The transport of `part`; a `ConfigurationError` naming the part and the
   * provider when the provider does not offer it.
   */
  transport<P extends Part>(part: P): PartTransports[P];
  /** The next publisher sequence of `channel` for this client, from 1. */
  nextSequence(channel: string): number;
  /**
   * Registers a resource to close with the client; the returned function
   * unregisters it (call it when the resource closes by itself).
   */
  track(resource: Closable): () => void;
  /** Throws a `ClosedError` once the client is closed. */
  assertOpen(): void;
  /**
   * The client's producer outbox, opened on first publish with
   * `confirm: 'outbox'`; it relays through `transport('channels')`.
   */
  readonly outbox: ClientOutbox;
}

/** What {@link createRuntime} needs. */
export interface RuntimeOptions {
  instanceId: string;
  logger: Logger;
  provider: Provider;
  parts?: Partial<Record<Part, Provider>>;
  /** See {@link Runtime.claimCheckMaxBytes}. */
  claimCheckMaxBytes?: number;
  /** Settings of the producer outbox; default ones when absent. */
  outbox?: OutboxSettings;
  /**
   * Layers put over the channel transport of each provider the runtime
   * puts in service, at start and at each switch.
   */
  wrapChannels?: (
    transport: ChannelTransport,
    provider: Provider,
  ) => ChannelTransport;
}

/** The runtime of one client, and the function that closes its resources. */
export interface OwnedRuntime extends Runtime {
  /** Marks the runtime closed and returns what was tracked, newest last. */
  shutdown(): Closable[];
  /** Every distinct provider, each once. */
  providers(): Provider[];
  /**
   * Moves the channels to `next` (see `src/delivery/switching.ts`), then
   * closes the provider they leave unless it serves another part.
   */
  switchChannels(
    next: Provider,
    options: Required<SwitchOptions>,
    hooks?: SwitchHooks,
  ): Promise<SwitchReport>;
}

/**
 * Builds the runtime of one client. Which provider serves each part is
 * fixed here; whether it offers the part is checked when the part is used.
 */
export function createRuntime(options: RuntimeOptions): OwnedRuntime {
  const sequences = new Map<string, number>();
  const tracked = new Set<Closable>();
  let closed = false;

  const configured = (part: Part): Provider =>
    options.parts?.[part] ?? options.provider;
  const sideOf = (chosen: Provider) => {
    const transport = chosen.channels!;
    return {
      provider: chosen,
      transport: options.wrapChannels?.(transport, chosen) ?? transport,
    };
  };
  const initialChannels = configured('channels');
  const channels =
    initialChannels.channels === undefined
      ? undefined
      : new SwitchingChannels({
          initial: sideOf(initialChannels),
          logger: options.logger,
        });
  const provider = (part: Part): Provider =>
    part === 'channels' && channels !== undefined
      ? channels.provider
      : configured(part);
  let outbox: ClientOutbox | undefined;

  return {
    instanceId: options.instanceId,
    logger: options.logger,
    ...(options.claimCheckMaxBytes !== undefined && {
      claimCheckMaxBytes: options.claimCheckMaxBytes,
    }),
    get outbox(): ClientOutbox {
      outbox ??= createClientOutbox({
        settings: options.outbox,
        logger: options.logger,
        transport: () => this.transport('channels'),
        capabilities: () => this.capabilities('channels'),
      });
      return outbox;
    },
    provider,
    capabilities: (part) => provider(part).capabilities,
    transport<P extends Part>(part: P): PartTransports[P] {
      if (part === 'channels' && channels !== undefined) {
        return channels.transport as PartTransports[P];
      }
      const chosen = provider(part);
      const transport = chosen[part] as PartTransports[P] | undefined;
      if (transport === undefined) {
        throw new ConfigurationError(
          `provider '${chosen.name}' does not offer ${part}: choose a provider that does for the '${part}' part`,
          { field: `parts.${part}`, value: chosen.name },
        );
      }
      return transport;
    },
    nextSequence(channel) {
      const next = (sequences.get(channel) ?? 0) + 1;
      sequences.set(channel, next);
      return next;
    },
    track(resource) {
      tracked.add(resource);
      return () => {
        tracked.delete(resource);
      };
    },
    assertOpen() {
      if (closed) throw new ClosedError('the Switchyard client is closed');
    },
    shutdown() {
      closed = true;
      const resources = [...tracked];
      tracked.clear();
      return resources;
    },
    providers() {
      const all = [
        options.provider,
        ...Object.values(options.parts ?? {}),
        provider('channels'),
      ];
      return [...new Set(all.filter((p) => p !== undefined))];
    },
    async switchChannels(next, switchOptions, hooks) {
      if (closed) throw new ClosedError('the Switchyard client is closed');
      if (channels === undefined) {
        throw new ConfigurationError(
          `provider '${initialChannels.name}' does not offer channels, so there are none to switch`,
          { field: 'parts.channels', value: initialChannels.name },
        );
      }
      const previous = channels.provider;
      if (next === previous) {
        throw new ConfigurationError(
          `the channels already run on this '${next.name}' provider`,
          { field: 'provider', value: next.name },
        );
      }
      // Publishes confirmed by the outbox wait there until the flip.
      const report = await channels.switchTo(
        sideOf(next),
        switchOptions,
        hooks ?? { hold: () => this.outbox.hold() },
      );

      const stillUsed = PARTS_BESIDES_CHANNELS.some(
        (part) => configured(part) === previous,
      );
      if (!stillUsed && !closed) await previous.close();
      return report;
    },
  };
}
