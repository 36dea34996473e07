/**
 * Administration of channels on JetStream: purges, consumers and stats,
 * read from stream and consumer infos.
 */
import type { ConsumerInfo as NatsConsumerInfo } from '@nats-io/jetstream';
import type { ChannelStats, ConsumerInfo } from '../../core/provider.ts';
import type { NatsContext } from './connection.ts';
import { countDeadLetters } from './dead-letters.ts';
import { API_CODES, apiCode, natsError, notFound } from './errors.ts';
import {
  BROADCAST_DESCRIPTION,
  type ChannelStreams,
  requireStream,
} from './streams.ts';

/** JetStream API code of a message delete whose sequence is not stored. */
const SEQUENCE_NOT_FOUND = 10057;

/** Most message deletions of a purge in flight at once. */
const DELETE_WINDOW = 256;

/**
 * Removes messages of the channel. Without options, all of them. With
 * `acknowledged` or `upToSequence`, those at or below the lowest
 * acknowledgement floor (`ack_floor.stream_seq`) of the channel's
 * consumers, bounded by `upToSequence`. Returns how many were removed.
 */
export async function purgeChannel(
  ctx: NatsContext,
  names: ChannelStreams,
  options: { acknowledged?: boolean; upToSequence?: number } = {},
): Promise<number> {
  const info = await requireStream(ctx, names, 'purge a channel');
  const acknowledged =
    options.acknowledged === true || options.upToSequence !== undefined;

  let floor = options.upToSequence ?? info.state.last_seq;
  let pending = false;
  if (acknowledged) {
    for (const consumer of await listConsumers(ctx, names)) {
      floor = Math.min(floor, consumer.ack_floor.stream_seq);
      if (consumer.num_ack_pending > 0) pending = true;
    }
    if (floor < info.state.first_seq) return 0;
    // A purge makes nats-server 2.9 forget the redeliveries its consumers
    // have queued above the floor (a nak'd message then waits a whole
    // lease); deleting the messages one by one leaves the queue alone.
    if (pending) return deleteUpTo(ctx, names, info.state.first_seq, floor);
  }

  try {
    const { purged } = await ctx.jsm.streams.purge(
      names.stream,
      acknowledged ? { seq: floor + 1 } : undefined,
    );
    return purged;
  } catch (error) {
    throw natsError(error, 'purge a channel', {
      details: { channel: names.channel },
      notFound: { kind: 'channel', resource: names.channel },
    });
  }
}

/** Deletes the messages from `first` to `last`; returns how many. */
async function deleteUpTo(
  ctx: NatsContext,
  names: ChannelStreams,
  first: number,
  last: number,
): Promise<number> {
  let deleted = 0;
  for (let start = first; start <= last; start += DELETE_WINDOW) {
    const end = Math.min(last, start + DELETE_WINDOW - 1);
    const batch: Promise<boolean>[] = [];
    for (let seq = start; seq <= end; seq += 1) {
      batch.push(
        ctx.jsm.streams
          .deleteMessage(names.stream, seq, false)
          .catch((error: unknown) => {
            // A gap: the message was deleted before.
            const code = apiCode(error);
            if (
              code === API_CODES.noMessageFound ||
              code === SEQUENCE_NOT_FOUND
            ) {
              return false;
            }
            throw natsError(error, 'purge a channel', {
              details: { channel: names.channel },
            });
          }),
      );
    }
    for (const removed of await Promise.all(batch)) if (removed) deleted += 1;
  }
  return deleted;
}

/** The channel's consumers, groups and broadcast instances. */
export async function channelConsumers(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<ConsumerInfo[]> {
  const infos = await listConsumers(ctx, names);
  return infos.map((info) => {
    const consumer: ConsumerInfo = {
      name: info.name,
      mode: modeOf(info),
      pending: info.num_pending,
      inFlight: info.num_ack_pending,
      ackFloor: info.ack_floor.stream_seq,
    };
    const active = info.delivered.last_active;
    if (typeof active === 'string') consumer.lastActiveAt = Date.parse(active);
    return consumer;
  });
}

/** Deletes a consumer; NotFoundError if it or the channel is absent. */
export async function deleteChannelConsumer(
  ctx: NatsContext,
  names: ChannelStreams,
  name: string,
): Promise<void> {
  await requireStream(ctx, names, 'delete a consumer');
  try {
    await ctx.jsm.consumers.delete(names.stream, name);
  } catch (error) {
    const details = { channel: names.channel, group: name };
    if (apiCode(error) === API_CODES.consumerNotFound) {
      throw notFound('consumer', name, details);
    }
    throw natsError(error, 'delete a consumer', { details });
  }
}

/**
 * Counters of the channel: depth is what the stream stores, in flight
 * the sum of the consumers' unacknowledged deliveries, lag per consumer
 * what it has not yet taken plus what it has not acknowledged.
 */
export async function channelStats(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<ChannelStats> {
  const info = await requireStream(ctx, names, 'read channel stats');
  const [infos, deadLettered] = await Promise.all([
    listConsumers(ctx, names),
    countDeadLetters(ctx, names),
  ]);

  const consumers: ChannelStats['consumers'] = {};
  let inFlight = 0;
  for (const consumer of infos) {
    inFlight += consumer.num_ack_pending;
    consumers[consumer.name] = {
      lag: consumer.num_pending + consumer.num_ack_pending,
      inFlight: consumer.num_ack_pending,
    };
  }
  return { depth: info.state.messages, inFlight, deadLettered, consumers };
}

/** Whether a JetStream consumer is a broadcast instance or a group. */
function modeOf(info: NatsConsumerInfo): 'group' | 'broadcast' {
  const { config } = info;
  return config.description === BROADCAST_DESCRIPTION ||
    config.durable_name === undefined
    ? 'broadcast'
    : 'group';
}

async function listConsumers(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<NatsConsumerInfo[]> {
  const all: NatsConsumerInfo[] = [];
  try {
    for await (const info of ctx.jsm.consumers.list(names.stream)) {
      all.push(info);
    }
  } catch (error) {
    throw natsError(error, 'list consumers', {
      details: { channel: names.channel },
      notFound: { kind: 'channel', resource: names.channel },
    });
  }
  return all.sort((a, b) => a.name.localeCompare(b.name));
}
