/**
 * Channels of the nats provider on JetStream, so that an existing
 * JetStream deployment is read and written as it is:
 *
 * - a channel is the stream `{streamPrefix}{channel}` with subjects
 *   `{stream}.*`; Switchyard publishes on `{stream}.msg` with
 *   `Nats-Msg-Id` set to the message id, so the stream's duplicate window
 *   (`duplicateWindowMs`) drops a re-sent publish; the channel sequence is
 *   the stream sequence;
 * - a worker group is a shared durable pull consumer named after the
 *   group, a broadcast instance a consumer of its own that the server
 *   removes once it has been inactive for `broadcastInactiveMs`; both
 *   start at messages published after they were created;
 * - dead letters go to the stream `{stream}-dlq` (`dead-letters.ts`).
 *
 * An ordered channel (its stream described `switchyard channel, ordered`)
 * gives each consumer `max_ack_pending` 1: a group hands out one message
 * at a time across all its members, so messages of one key are handled
 * one at a time and in order, at the cost of throughput. JetStream 2.9
 * has no hold per key for a shared consumer, and holding back in one
 * member would not stop another member taking the same key.
 */
import { PayloadTooLargeError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type {
  ChannelSpec,
  ChannelStats,
  ChannelTransport,
  ConsumerInfo,
  ConsumerSpec,
  DeadLetter,
  TransportConsumer,
  TransportPublishOutcome,
} from '../../core/provider.ts';
import {
  channelConsumers,
  channelStats,
  deleteChannelConsumer,
  purgeChannel,
} from './channel-admin.ts';
import type { NatsContext } from './connection.ts';
import { consumerConfig, NatsConsumer } from './consumer.ts';
import {
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
} from './dead-letters.ts';
import {
  API_CODES,
  apiCode,
  isNoResponders,
  natsError,
  notFound,
  PROVIDER,
} from './errors.ts';
import { toHeaders } from './messages.ts';
import {
  CHANNEL_DESCRIPTION,
  type ChannelStreams,
  channelStreams,
  DEAD_LETTER_DESCRIPTION,
  ensureStream,
  findStream,
  isOrdered,
  ORDERED_DESCRIPTION,
  requireStream,
} from './streams.ts';

/** Most publishes awaiting their acknowledgement at once. */
export const PUBLISH_WINDOW = 512;

/** Lease of the groups `ensure` creates, until a consumer sets its own. */
const ENSURE_LEASE_MS = 30_000;

/**
 * Bytes of the header block of a message besides its headers: the
 * `NATS/1.0` line and the blank line that ends the block.
 */
const HEADER_FRAME_BYTES = 12;

/**
 * The channels of one nats provider instance.
 *
 * @example
 * ```ts
 * const channels = createNatsChannels(context);
 * await channels.ensure({ name: 'orders', ordered: false, groups: ['billing'] });
 * ```
 */
export function createNatsChannels(ctx: NatsContext): ChannelTransport {
  return new NatsChannels(ctx);
}

class NatsChannels implements ChannelTransport {
  readonly #ctx: NatsContext;

  constructor(ctx: NatsContext) {
    this.#ctx = ctx;
  }

  async ensure(spec: ChannelSpec): Promise<void> {
    this.#ctx.lifecycle.check('ensure a channel');
    const names = this.#names(spec.name);
    const duplicateWindow = this.#ctx.options.duplicateWindowMs * 1e6;

    await ensureStream(this.#ctx, {
      name: names.stream,
      subjects: [`${names.stream}.*`],
      description: spec.ordered ? ORDERED_DESCRIPTION : CHANNEL_DESCRIPTION,
      ...(duplicateWindow > 0 && { duplicate_window: duplicateWindow }),
    });
    await ensureStream(this.#ctx, {
      name: names.deadLetters,
      subjects: [`${names.deadLetters}.*`],
      description: DEAD_LETTER_DESCRIPTION,
      ...(duplicateWindow > 0 && { duplicate_window: duplicateWindow }),
    });
    const info = await requireStream(this.#ctx, names, 'ensure a channel');
    for (const group of spec.groups) {
      await this.#ensureGroup(names, group, isOrdered(info));
    }
  }

  async exists(channel: string): Promise<boolean> {
    this.#ctx.lifecycle.check('look up a channel');
    const names = this.#names(channel);
    return (
      (await findStream(this.#ctx, names.stream, 'look up a channel')) !==
      undefined
    );
  }

  async list(): Promise<string[]> {
    this.#ctx.lifecycle.check('list channels');
    const prefix = this.#ctx.options.streamPrefix;
    const streams = new Map<string, string | undefined>();
    try {
      for await (const info of this.#ctx.jsm.streams.list()) {
        const { name, subjects, description } = info.config;
        if (!name.startsWith(prefix)) continue;
        if (!(subjects ?? []).includes(`${name}.*`)) continue;
        streams.set(name, description);
      }
    } catch (error) {
      throw natsError(error, 'list channels');
    }

    const channels: string[] = [];
    for (const [name, description] of streams) {
      if (description === DEAD_LETTER_DESCRIPTION) continue;
      // A `-dlq` stream of a listed stream holds its dead letters.
      if (name.endsWith('-dlq') && streams.has(name.slice(0, -4))) continue;
      channels.push(name.slice(prefix.length));
    }
    return channels.sort();
  }

  async delete(channel: string): Promise<void> {
    this.#ctx.lifecycle.check('delete a channel');
    const names = this.#names(channel);
    for (const stream of [names.stream, names.deadLetters]) {
      try {
        await this.#ctx.jsm.streams.delete(stream);
      } catch (error) {
        if (apiCode(error) === API_CODES.streamNotFound) continue;
        throw natsError(error, 'delete a channel', { details: { channel } });
      }
    }
  }

  async publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> {
    this.#ctx.lifecycle.check('publish');
    const names = this.#names(channel);
    const limit = this.#ctx.nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    const outcomes = new Array<TransportPublishOutcome>(messages.length);
    const window = new Set<Promise<void>>();
    let unreachable = false;

    for (const [index, message] of messages.entries()) {
      const headers = toHeaders(message);
      const size = message.body.byteLength + headerBytes(headers);
      if (size > limit) {
        outcomes[index] = {
          ok: false,
          error: new PayloadTooLargeError(size, limit, {
            what: 'message (body and headers)',
            details: { provider: PROVIDER, channel, messageId: message.id },
          }),
        };
        continue;
      }

      // `Nats-Msg-Id` is among the headers already.
      const sent = this.#ctx.publisher
        .publish(names.publish, message.body, headers)
        .then(
          (ack) => {
            outcomes[index] = {
              ok: true,
              channelSequence: ack.seq,
              duplicate: ack.duplicate,
            };
          },
          (error: unknown) => {
            if (isNoResponders(error)) unreachable = true;
            outcomes[index] = {
              ok: false,
              error: natsError(error, 'publish', {
                details: { channel, messageId: message.id },
                timeoutMs: this.#ctx.options.connectTimeoutMs,
              }),
            };
          },
        )
        .finally(() => window.delete(sent));
      window.add(sent);
      if (window.size >= PUBLISH_WINDOW) await Promise.race(window);
    }
    await Promise.all(window);

    // Nobody stored the subject: the channel's stream may not exist.
    if (unreachable) await this.#explainUnreachable(names, outcomes);
    return outcomes;
  }

  async consume(spec: ConsumerSpec): Promise<TransportConsumer> {
    this.#ctx.lifecycle.check('open a consumer');
    const names = this.#names(spec.channel);
    const info = await requireStream(this.#ctx, names, 'open a consumer');

    const consumer = new NatsConsumer(this.#ctx, names, spec, isOrdered(info));
    try {
      await consumer.open();
    } catch (error) {
      await consumer.close().catch(() => {});
      throw error;
    }
    this.#ctx.lifecycle.track(consumer);
    return consumer;
  }

  purge(
    channel: string,
    options?: { acknowledged?: boolean; upToSequence?: number },
  ): Promise<number> {
    this.#ctx.lifecycle.check('purge a channel');
    return purgeChannel(this.#ctx, this.#names(channel), options);
  }

  consumers(channel: string): Promise<ConsumerInfo[]> {
    this.#ctx.lifecycle.check('list consumers');
    return channelConsumers(this.#ctx, this.#names(channel));
  }

  deleteConsumer(channel: string, name: string): Promise<void> {
    this.#ctx.lifecycle.check('delete a consumer');
    return deleteChannelConsumer(this.#ctx, this.#names(channel), name);
  }

  stats(channel: string): Promise<ChannelStats> {
    this.#ctx.lifecycle.check('read channel stats');
    return channelStats(this.#ctx, this.#names(channel));
  }

  deadLetters(
    channel: string,
    options: { limit?: number } = {},
  ): Promise<DeadLetter[]> {
    this.#ctx.lifecycle.check('read dead letters');
    return readDeadLetters(this.#ctx, this.#names(channel), options.limit);
  }

  async replayDeadLetters(
    channel: string,
    options: { ids?: readonly string[] } = {},
  ): Promise<number> {
    this.#ctx.lifecycle.check('replay dead letters');
    return replayDeadLetters(this.#ctx, this.#names(channel), options.ids);
  }

  purgeDeadLetters(channel: string): Promise<number> {
    this.#ctx.lifecycle.check('purge dead letters');
    return purgeDeadLetters(this.#ctx, this.#names(channel));
  }

  #names(channel: string): ChannelStreams {
    return channelStreams(this.#ctx, channel);
  }

  async #ensureGroup(
    names: ChannelStreams,
    group: string,
    ordered: boolean,
  ): Promise<void> {
    const spec = {
      mode: 'group' as const,
      name: group,
      leaseMs: ENSURE_LEASE_MS,
    };
    try {
      await this.#ctx.jsm.consumers.info(names.stream, group);
      return;
    } catch (error) {
      if (apiCode(error) !== API_CODES.consumerNotFound) {
        throw natsError(error, 'create a group', {
          details: { channel: names.channel, group },
        });
      }
    }
    try {
      await this.#ctx.jsm.consumers.add(
        names.stream,
        consumerConfig(this.#ctx, spec, ordered),
      );
    } catch (error) {
      // A member that raced us created it first: the group exists.
      const exists = await this.#ctx.jsm.consumers
        .info(names.stream, group)
        .then(
          () => true,
          () => false,
        );
      if (!exists) {
        throw natsError(error, 'create a group', {
          details: { channel: names.channel, group },
        });
      }
    }
  }

  /**
   * Turns the failures of a publish that nobody answered into a
   * NotFoundError when the channel's stream does not exist.
   */
  async #explainUnreachable(
    names: ChannelStreams,
    outcomes: TransportPublishOutcome[],
  ): Promise<void> {
    const stream = await findStream(this.#ctx, names.stream, 'publish').catch(
      () => null,
    );
    if (stream !== undefined) return;
    const { channel } = names;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.ok || !isNoResponders(outcome.error.cause)) continue;
      outcomes[index] = {
        ok: false,
        error: notFound('channel', channel, { channel }),
      };
    }
  }
}

/** Bytes the header block of a message takes on the wire. */
function headerBytes(headers: Iterable<[string, string[]]>): number {
  let bytes = HEADER_FRAME_BYTES;
  for (const [key, values] of headers) {
    for (const value of values) {
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value) + 4;
    }
  }
  return bytes;
}
