/**
 * Dead letters of a channel, in the stream `{stream}-dlq`: a dead letter
 * is the message (same body, same `ce-*` headers) published on
 * `{stream}-dlq.{group}` with the reason, the attempt count, the group and
 * the message's stream sequence as headers; the time the dead-letter
 * stream stored it is when it was dead-lettered.
 *
 * Replay publishes the message again on `{stream}.replay` with the
 * `Switchyard-Replay-Group` header naming its group, then deletes it from
 * the dead-letter stream. JetStream 2.9 filters a consumer on one subject
 * only, so every consumer of the channel receives the replay; each one
 * other than the group named acknowledges it at once (see
 * `NatsConsumer`), and the group receives it as a new message with a
 * fresh attempt count. A plain JetStream consumer of the stream sees the
 * replay too, with that header.
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import type { WireMessage } from '../../core/message.ts';
import type { DeadLetter } from '../../core/provider.ts';
import type { NatsContext } from './connection.ts';
import { API_CODES, apiCode, natsError } from './errors.ts';
import {
  DEAD_LETTER_HEADERS,
  decodeValue,
  encodeValue,
  fromNats,
  pairsOf,
  REPLAY_GROUP_HEADER,
  toHeaders,
} from './messages.ts';
import {
  type ChannelStreams,
  deadLetterSubject,
  findStream,
  requireStream,
} from './streams.ts';

/** How long reading the dead-letter stream may wait for its messages. */
const READ_EXPIRES_MS = 5000;

/** What is stored of one dead-lettered delivery. */
export interface DeadLetterEntry {
  message: WireMessage;
  group: string;
  reason: string;
  attempts: number;
  /** The message's sequence in the channel's stream. */
  sequence: number;
}

/** A dead letter with its place in the dead-letter stream. */
export interface StoredDeadLetter extends DeadLetter {
  /** Sequence in the dead-letter stream. */
  entry: number;
}

/**
 * Publishes a dead letter and resolves once the dead-letter stream
 * stored it. A retry of the same delivery is dropped by the stream's
 * duplicate window.
 */
export async function deadLetter(
  ctx: NatsContext,
  names: ChannelStreams,
  entry: DeadLetterEntry,
): Promise<void> {
  const msgId = `${entry.message.id}:${entry.group}:${entry.sequence}`;
  const headers = toHeaders(entry.message, msgId);
  headers.set(DEAD_LETTER_HEADERS.reason, encodeValue(entry.reason));
  headers.set(DEAD_LETTER_HEADERS.attempts, String(entry.attempts));
  headers.set(DEAD_LETTER_HEADERS.group, entry.group);
  headers.set(DEAD_LETTER_HEADERS.sequence, String(entry.sequence));

  try {
    await ctx.js.publish(
      deadLetterSubject(names, entry.group),
      entry.message.body,
      { headers, msgID: msgId },
    );
  } catch (error) {
    throw natsError(error, 'dead-letter a message', {
      details: {
        channel: names.channel,
        group: entry.group,
        messageId: entry.message.id,
      },
    });
  }
}

/** The channel's dead letters, oldest first, up to `limit`. */
export async function readDeadLetters(
  ctx: NatsContext,
  names: ChannelStreams,
  limit = Number.POSITIVE_INFINITY,
): Promise<StoredDeadLetter[]> {
  await requireStream(ctx, names, 'read dead letters');
  const info = await findStream(ctx, names.deadLetters, 'read dead letters');
  const count = Math.min(info?.state.messages ?? 0, limit);
  if (count <= 0) return [];

  const found: StoredDeadLetter[] = [];
  try {
    // An ordered consumer reads the stream from its start, with no
    // acknowledgements, and is removed afterwards.
    const reader = await ctx.js.consumers.get(names.deadLetters);
    try {
      const messages = await reader.fetch({
        max_messages: count,
        expires: READ_EXPIRES_MS,
      });
      for await (const msg of messages) {
        found.push(toDeadLetter(names, msg.headers, msg.data, msg.seq, msg));
        if (found.length >= count || msg.info.pending === 0) break;
      }
    } finally {
      await reader.delete().catch(() => {});
    }
  } catch (error) {
    throw natsError(error, 'read dead letters', {
      details: { channel: names.channel },
    });
  }
  return found;
}

/**
 * Replays dead letters (all, or those whose message id is in `ids`) to
 * the group each came from, and removes them. One whose group no longer
 * exists stays and is not counted.
 */
export async function replayDeadLetters(
  ctx: NatsContext,
  names: ChannelStreams,
  ids?: readonly string[],
): Promise<number> {
  const entries = await readDeadLetters(ctx, names);
  const wanted = ids === undefined ? undefined : new Set(ids);
  const groups = await consumerNames(ctx, names);

  let replayed = 0;
  for (const entry of entries) {
    if (wanted !== undefined && !wanted.has(entry.message.id)) continue;
    if (!groups.has(entry.group)) continue;
    const msgId = `${entry.message.id}:replay:${entry.entry}`;
    const headers = toHeaders(entry.message, msgId);
    headers.set(REPLAY_GROUP_HEADER, entry.group);
    try {
      await ctx.js.publish(names.replay, entry.message.body, {
        headers,
        msgID: msgId,
      });
      await ctx.jsm.streams.deleteMessage(names.deadLetters, entry.entry);
    } catch (error) {
      throw natsError(error, 'replay a dead letter', {
        details: {
          channel: names.channel,
          group: entry.group,
          messageId: entry.message.id,
        },
      });
    }
    replayed += 1;
  }
  return replayed;
}

/** Removes every dead letter of the channel; returns how many. */
export async function purgeDeadLetters(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<number> {
  await requireStream(ctx, names, 'purge dead letters');
  try {
    const { purged } = await ctx.jsm.streams.purge(names.deadLetters);
    return purged;
  } catch (error) {
    if (apiCode(error) === API_CODES.streamNotFound) return 0;
    throw natsError(error, 'purge dead letters', {
      details: { channel: names.channel },
    });
  }
}

/** How many dead letters the channel has. */
export async function countDeadLetters(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<number> {
  const info = await findStream(ctx, names.deadLetters, 'count dead letters');
  return info?.state.messages ?? 0;
}

function toDeadLetter(
  names: ChannelStreams,
  headers: MsgHdrs | undefined,
  body: Uint8Array,
  entry: number,
  stored: { time: Date },
): StoredDeadLetter {
  const read = (name: string) => headers?.get(name) ?? '';
  const storedAt = stored.time.getTime();
  return {
    message: fromNats(names.channel, pairsOf(headers), body, {
      seq: Number(read(DEAD_LETTER_HEADERS.sequence)) || entry,
      storedAt,
    }),
    group: read(DEAD_LETTER_HEADERS.group),
    reason: decodeValue(read(DEAD_LETTER_HEADERS.reason)),
    attempts: Number(read(DEAD_LETTER_HEADERS.attempts)) || 0,
    deadLetteredAt: storedAt,
    entry,
  };
}

async function consumerNames(
  ctx: NatsContext,
  names: ChannelStreams,
): Promise<Set<string>> {
  try {
    const infos = await ctx.jsm.consumers.list(names.stream).next();
    return new Set(infos.map((info) => info.name));
  } catch (error) {
    throw natsError(error, 'list consumers', {
      details: { channel: names.channel },
      notFound: { kind: 'channel', resource: names.channel },
    });
  }
}
