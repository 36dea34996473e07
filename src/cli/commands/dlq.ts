/** `switchyard dlq`: the dead letters of a channel. */
import { codecForContentType } from '../../core/codecs.ts';
import type { DeadLetter } from '../../core/provider.ts';
import { defineCommand } from '../command.ts';
import { formatTime, plural } from '../format.ts';

/** `dlq ls <channel>`. */
export const dlqLsCommand = defineCommand({
  name: 'dlq ls',
  args: '<channel>',
  summary: 'List the dead letters of a channel, oldest first',
  options: {
    limit: {
      type: 'string',
      value: 'N',
      description: 'show at most N dead letters',
    },
  },
  async run({ args, options, output, client }) {
    const [channel] = args as [string];
    const limit = options.integer('limit', undefined, 1);
    const letters = await (await client()).admin.deadLetters(channel, {
      ...(limit !== undefined && { limit }),
    });

    if (output.json) {
      for (const letter of letters) output.record(describe(channel, letter));
      return;
    }
    output.table(
      ['GROUP', 'ATTEMPTS', 'MESSAGE', 'DEAD-LETTERED', 'REASON'],
      letters.map((letter) => [
        letter.group,
        String(letter.attempts),
        letter.message.id,
        formatTime(letter.deadLetteredAt),
        letter.reason,
      ]),
      `no dead letters in ${channel}`,
    );
  },
});

/** `dlq replay <channel>`. */
export const dlqReplayCommand = defineCommand({
  name: 'dlq replay',
  args: '<channel>',
  summary: 'Hand dead letters back to their groups with fresh attempts',
  options: {
    id: {
      type: 'string',
      multiple: true,
      value: 'ID',
      description: 'only the dead letter of message ID (default: all)',
    },
  },
  async run({ args, options, output, client }) {
    const [channel] = args as [string];
    const ids = options.list('id');
    const replayed = await (await client()).admin.replayDeadLetters(channel, {
      ...(ids.length > 0 && { ids }),
    });

    if (output.json) output.record({ channel, replayed });
    else output.line(`replayed ${plural(replayed, 'dead letter')}`);
  },
});

/** `dlq purge <channel>`. */
export const dlqPurgeCommand = defineCommand({
  name: 'dlq purge',
  args: '<channel>',
  summary: 'Remove the dead letters of a channel',
  async run({ args, output, client }) {
    const [channel] = args as [string];
    const removed = await (await client()).admin.purgeDeadLetters(channel);

    if (output.json) output.record({ channel, removed });
    else output.line(`removed ${plural(removed, 'dead letter')}`);
  },
});

function describe(channel: string, letter: DeadLetter) {
  const { message } = letter;
  return {
    channel,
    group: letter.group,
    reason: letter.reason,
    attempts: letter.attempts,
    messageId: message.id,
    deadLetteredAt: new Date(letter.deadLetteredAt),
    publishedAt: new Date(message.publishedAt),
    attributes: message.attributes,
    contentType: message.contentType,
    data: decode(message.body, message.contentType),
  };
}

/** The data if its content type names a codec that reads it, else bytes. */
function decode(body: Uint8Array, contentType: string): unknown {
  try {
    return codecForContentType(contentType).decode(body);
  } catch {
    return body;
  }
}
