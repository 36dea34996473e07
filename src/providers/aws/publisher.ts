/**
 * Publishing on a channel's SNS topic: `PublishBatch` calls of at most
 * ten messages and 256 KiB together, one after another so that the
 * messages reach the topic in the order given. On a FIFO topic the
 * message group is the ordering key (a fixed group when there is none)
 * and the deduplication id is the message id, so SNS drops a re-publish
 * of an id within its five-minute window.
 */

import { createHash } from 'node:crypto';
import {
  type BatchResultErrorEntry,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import {
  SwitchyardError,
  TransportUnavailableError,
} from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type { TransportPublishOutcome } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsError, isMissing, notFound, PROVIDER, tooLarge } from './errors.ts';
import { DEFAULT_MESSAGE_GROUP } from './names.ts';
import type { ChannelTopic } from './topics.ts';
import { toSqsBody } from './wire.ts';

/** The largest message SNS accepts, in bytes. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** The most entries of one `PublishBatch` call. */
export const SNS_BATCH_SIZE = 10;

/** Message group ids SNS takes as they are. */
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;

/** One message ready to send. */
interface Entry {
  index: number;
  message: WireMessage;
  body: string;
  bytes: number;
}

/**
 * Publishes `messages` on `topic` and returns one outcome per message, in
 * order. A message whose envelope is over 256 KiB fails alone with a
 * PayloadTooLargeError naming both sizes.
 */
export async function publishToTopic(
  ctx: AwsContext,
  topic: ChannelTopic,
  messages: readonly WireMessage[],
): Promise<TransportPublishOutcome[]> {
  const outcomes = new Array<TransportPublishOutcome>(messages.length);
  const entries: Entry[] = [];
  for (const [index, message] of messages.entries()) {
    const body = toSqsBody(message);
    const bytes = Buffer.byteLength(body);
    if (bytes > SNS_MAX_MESSAGE_BYTES) {
      outcomes[index] = {
        ok: false,
        error: tooLarge(bytes, SNS_MAX_MESSAGE_BYTES, 'message envelope', {
          channel: topic.channel,
          messageId: message.id,
        }),
      };
      continue;
    }
    entries.push({ index, message, body, bytes });
  }

  for (const batch of batches(entries)) {
    await sendBatch(ctx, topic, batch, outcomes);
  }
  return outcomes;
}

async function sendBatch(
  ctx: AwsContext,
  topic: ChannelTopic,
  batch: Entry[],
  outcomes: TransportPublishOutcome[],
): Promise<void> {
  let failed: BatchResultErrorEntry[];
  try {
    const answer = await ctx.sns.send(
      new PublishBatchCommand({
        TopicArn: topic.arn,
        PublishBatchRequestEntries: batch.map((entry, index) =>
          toEntry(entry, index, topic.ordered),
        ),
      }),
    );
    failed = answer.Failed ?? [];
  } catch (error) {
    const { channel } = topic;
    const mapped = isMissing(error)
      ? notFound('channel', channel, { channel })
      : awsError(error, `publish on channel '${channel}'`, {
          details: { channel },
        });
    for (const entry of batch)
      outcomes[entry.index] = { ok: false, error: mapped };
    return;
  }

  const failures = new Map(failed.map((entry) => [entry.Id, entry]));
  for (const [index, entry] of batch.entries()) {
    const failure = failures.get(String(index));
    outcomes[entry.index] =
      failure === undefined
        ? { ok: true, duplicate: false }
        : { ok: false, error: entryError(failure, topic, entry.message.id) };
  }
}

/** Batches of at most ten entries and 256 KiB together. */
function* batches(entries: Entry[]): Generator<Entry[]> {
  let batch: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const full =
      batch.length === SNS_BATCH_SIZE ||
      bytes + entry.bytes > SNS_MAX_MESSAGE_BYTES;
    if (full && batch.length > 0) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.bytes;
  }
  if (batch.length > 0) yield batch;
}

function toEntry(
  entry: Entry,
  index: number,
  ordered: boolean,
): PublishBatchRequestEntry {
  return {
    Id: String(index),
    Message: entry.body,
    ...(ordered && {
      MessageGroupId: messageGroupId(entry.message.orderingKey),
      MessageDeduplicationId: entry.message.id,
    }),
  };
}

/**
 * The FIFO message group of an ordering key: the key itself when SNS
 * takes it, else a hash of it, so every key keeps a group of its own.
 */
export function messageGroupId(orderingKey: string | undefined): string {
  if (orderingKey === undefined || orderingKey === '') {
    return DEFAULT_MESSAGE_GROUP;
  }
  if (GROUP_ID.test(orderingKey)) return orderingKey;
  return createHash('sha256').update(orderingKey).digest('hex');
}

function entryError(
  failure: BatchResultErrorEntry,
  topic: ChannelTopic,
  messageId: string,
): SwitchyardError {
  const message = `cannot publish message '${messageId}' on channel '${topic.channel}': ${failure.Message ?? failure.Code} (${failure.Code})`;
  const details = {
    provider: PROVIDER,
    providerCode: failure.Code,
    channel: topic.channel,
    messageId,
  };
  // A fault of the service, not of the message: it may be sent again.
  return failure.SenderFault === false
    ? new TransportUnavailableError(message, { details })
    : new SwitchyardError(message, { details });
}
