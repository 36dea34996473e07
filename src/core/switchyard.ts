/** The client: one handle on channels, buckets and request/reply. */
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
}

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
   * Closes subscriptions (letting in-flight work finish), then providers.
   * Idempotent.
   */
  close(): Promise<void>;
}
