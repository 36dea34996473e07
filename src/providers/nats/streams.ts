/**
 * Where a channel lives in JetStream: its stream `{prefix}{channel}` with
 * subjects `{prefix}{channel}.*`, and its dead letters in the stream
 * `{prefix}{channel}-dlq` with subjects `{prefix}{channel}-dlq.*`.
 * Switchyard publishes on `{stream}.msg`, replays dead letters on
 * `{stream}.replay` and dead-letters on `{stream}-dlq.{group}`; any other
 * subject under the stream is read as a message too.
 */
import type { StreamConfig, StreamInfo } from '@nats-io/jetstream';
import type { NatsContext } from './connection.ts';
import { API_CODES, apiCode, natsError, notFound } from './errors.ts';

/** Stream description of a channel, ordered or not. */
export const CHANNEL_DESCRIPTION = 'switchyard channel';
/** Stream description of an ordered channel. */
export const ORDERED_DESCRIPTION = 'switchyard channel, ordered';
/** Stream description of a channel's dead letters. */
export const DEAD_LETTER_DESCRIPTION = 'switchyard dead letters';
/** Consumer description of a broadcast consumer. */
export const BROADCAST_DESCRIPTION = 'switchyard broadcast consumer';

/** The JetStream names of one channel. */
export interface ChannelStreams {
  channel: string;
  /** The channel's stream. */
  stream: string;
  /** The stream of its dead letters. */
  deadLetters: string;
  /** Subject of a publish. */
  publish: string;
  /** Subject of a replayed dead letter. */
  replay: string;
}

/** The names of `channel` under the context's stream prefix. */
export function channelStreams(
  ctx: NatsContext,
  channel: string,
): ChannelStreams {
  const stream = `${ctx.options.streamPrefix}${channel}`;
  return {
    channel,
    stream,
    deadLetters: `${stream}-dlq`,
    publish: `${stream}.msg`,
    replay: `${stream}.replay`,
  };
}

/** Subject of a dead letter of `group`. */
export function deadLetterSubject(names: ChannelStreams, group: string) {
  return `${names.deadLetters}.${group}`;
}

/** The stream's info, or undefined if it does not exist. */
export async function findStream(
  ctx: NatsContext,
  stream: string,
  operation: string,
): Promise<StreamInfo | undefined> {
  try {
    return await ctx.jsm.streams.info(stream);
  } catch (error) {
    if (apiCode(error) === API_CODES.streamNotFound) return undefined;
    throw natsError(error, operation, { details: { stream } });
  }
}

/** The channel's stream info; NotFoundError kind `channel` if absent. */
export async function requireStream(
  ctx: NatsContext,
  names: ChannelStreams,
  operation: string,
): Promise<StreamInfo> {
  const info = await findStream(ctx, names.stream, operation);
  if (info === undefined) {
    throw notFound('channel', names.channel, { channel: names.channel });
  }
  return info;
}

/** Whether the stream was declared for an ordered channel. */
export function isOrdered(info: StreamInfo): boolean {
  return info.config.description === ORDERED_DESCRIPTION;
}

/** Creates `config.name` unless a stream of that name exists. */
export async function ensureStream(
  ctx: NatsContext,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  if ((await findStream(ctx, config.name, 'ensure a channel')) !== undefined) {
    return;
  }
  try {
    await ctx.jsm.streams.add(config);
  } catch (error) {
    // Another instance created it in between: what exists stays.
    if (apiCode(error) === API_CODES.streamNameInUse) return;
    throw natsError(error, 'create a stream', {
      details: { stream: config.name },
    });
  }
}
