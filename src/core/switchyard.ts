/** The client: one handle on channels, buckets and request/reply. */
import type { ClaimCheckSetting } from '../delivery/claim-check-options.ts';
import type {
  OutboxAccess,
  OutboxSettings,
} from '../delivery/outbox-client.ts';
import type { SwitchOptions, SwitchReport } from '../delivery/switching.ts';
import type { Capabilities } from './capabilities.ts';
import type { Channel, ChannelOptions } from './channel.ts';
import type { KvBucket, KvOptions } from './kv.ts';
import type { Logger } from './logger.ts';
import type { ObjectBucket, ObjectBucketOptions } from './objects.ts';
import type {
  ChannelStats,
  ConsumerInfo,
  DeadLetter,
  Provider,
} from './provider.ts';
import type {
  GatherOptions,
  GatherReply,
  RequestHandler,
  RequestOptions,
  ServeOptions,
  Server,
} from './requests.ts';

/** The parts of Switchyard a provider can be chosen for. */
export type Part = 'channels' | 'kv' | 'objects' | 'requests' | 'idempotency';

/** Options of {@link Switchyard} creation, already loaded and validated. */
export interface SwitchyardOptions {
  /** The provider of every part not given in `parts`. */
  provider: Provider;
  /** A different provider for some parts. */
  parts?: Partial<Record<Part, Provider>>;
  logger?: Logger;
  /** Unique id of this instance; default a random one. */
  instanceId?: string;
  /**
   * Carry bodies larger than the channels provider takes as objects in
   * this bucket of the objects provider (see `src/delivery/claim-check.ts`).
   * Default: none, and such a body is a PayloadTooLargeError.
   */
  claimCheck?: ClaimCheckSetting;
  /**
   * The producer outbox of channels published with `confirm: 'outbox'`:
   * its file (default `.switchyard/outbox.db`) and relay settings. The
   * outbox is opened on the first such publish; bad settings are refused
   * when the client is made.
   */
  outbox?: OutboxSettings;
  /**
   * Starts a provider by its configuration name, for `switchTo` with a
   * {@link SwitchTarget} that names one (`connect` sets it from the
   * provider registry). When one of `inUse` (the providers serving this
   * client) was started with the same name and options, it is handed back
   * rather than started twice.
   */
  openProvider?: (
    name: string,
    options: Record<string, unknown> | undefined,
    inUse: readonly Provider[],
  ) => Promise<Provider>;
}

/**
 * Where {@link Switchyard.switchTo} moves the channels: a provider already
 * built, or a provider's configuration name with its options (default:
 * the options the configuration gives it).
 */
export type SwitchTarget =
  | Provider
  | { provider: string; options?: Record<string, unknown> };

export type { SwitchOptions, SwitchReport };

/** Administration of channels. */
export interface ChannelAdmin {
  list(): Promise<string[]>;
  /**
   * Removes messages: all of them, or with `acknowledged` only those every
   * group has acknowledged (optionally at or below `upToSequence`).
   */
  purge(
    channel: string,
    options?: { acknowledged?: boolean; upToSequence?: number },
  ): Promise<number>;
  consumers(channel: string): Promise<ConsumerInfo[]>;
  deleteConsumer(channel: string, name: string): Promise<void>;
  stats(channel: string): Promise<ChannelStats>;
  deadLetters(
    channel: string,
    options?: { limit?: number },
  ): Promise<DeadLetter[]>;
  replayDeadLetters(
    channel: string,
    options?: { ids?: readonly string[] },
  ): Promise<number>;
  purgeDeadLetters(channel: string): Promise<number>;
  delete(channel: string): Promise<void>;
}

/** A Switchyard client. */
export interface Switchyard {
  readonly instanceId: string;
  /** Capabilities of the provider of each part. */
  capabilities(part: Part): Capabilities;
  /** Names the provider that serves `part`. */
  providerName(part: Part): string;
  channel<T = unknown>(name: string, options?: ChannelOptions<T>): Channel<T>;
  kv<T = unknown>(bucket: string, options?: KvOptions<T>): KvBucket<T>;
  objects(bucket: string, options?: ObjectBucketOptions): ObjectBucket;
  serve<Req = unknown, Res = unknown>(
    subject: string,
    handler: RequestHandler<Req, Res>,
    options?: ServeOptions<Req, Res>,
  ): Promise<Server>;
  request<Req = unknown, Res = unknown>(
    subject: string,
    data: Req,
    options?: RequestOptions<Req, Res>,
  ): Promise<Res>;
  gather<Req = unknown, Res = unknown>(
    subject: string,
    data: Req,
    options?: GatherOptions<Req, Res>,
  ): Promise<GatherReply<Res>[]>;
  readonly admin: ChannelAdmin;
  /**
   * The producer outbox: how many messages wait to be relayed and for how
   * long, per channel, what the transport refused for good, and a wait
   * until it is empty.
   *
   * @example
   * const { depth, oldestAgeMs } = client.outbox.stats();
   */
  readonly outbox: OutboxAccess;
  /**
   * Moves the channels of this running client to another provider with no
   * message lost. Publishes go on throughout: until the new transport is
   * ready they go to the old one, then to the new one; consumers finish
   * and drain what is left on the old transport for them, then go on with
   * the new one; the old provider is closed unless it serves another part.
   * Buckets, idempotency records and request/reply stay where they are, so
   * exactly-once consumers keep their records.
   *
   * The switch is per client: other instances of the pipeline switch on
   * their own. Groups are created on the new transport before the flip, so
   * messages for a group consumed elsewhere wait there for it.
   *
   * Rejects, changing nothing, with a `CapabilityError` when the target
   * lacks a feature in use (ordering, broadcast, delayed retry, lease
   * extension), a `ConflictError` while another switch is under way, and
   * whatever the target raises while preparing. Resolves with what the
   * switch did once every consumer has left the old transport (or the
   * drain deadline passed; see {@link SwitchReport}).
   *
   * @example
   * const report = await client.switchTo({ provider: 'nats' });
   * console.log(report.prepareMs, report.drainMs);
   */
  switchTo(
    target: SwitchTarget,
    options?: SwitchOptions,
  ): Promise<SwitchReport>;
  /**
   * Closes subscriptions (letting in-flight work finish), then providers.
   * Idempotent.
   */
  close(): Promise<void>;
}
