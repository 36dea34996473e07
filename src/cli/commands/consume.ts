/** `switchyard consume`: pulls messages of a channel as a worker group. */
import type { Delivery } from '../../core/channel.ts';
import type { Message } from '../../core/message.ts';
import { defineCommand } from '../command.ts';
import { formatAttributes, formatData, formatTime, plural } from '../format.ts';
import type { Output } from '../output.ts';

/** Largest number of messages asked for in one fetch. */
const FETCH_SIZE = 100;

/** `consume <channel> --group G`. */
export const consumeCommand = defineCommand({
  name: 'consume',
  args: '<channel>',
  summary: 'Take messages of a channel as a member of a worker group',
  details: [
    'Fetches until --count messages arrived, or until none arrives within',
    '--wait ms, or Ctrl-C. Each message is acknowledged once printed, unless',
    '--no-ack: then the messages are handed back to the group at the end, to',
    'be delivered again (each delivery counts as an attempt; past',
    '--max-attempts a message goes to the dead letters). A new group receives',
    'only messages published after it was created.',
  ].join('\n'),
  options: {
    group: {
      type: 'string',
      value: 'GROUP',
      description: 'worker group (created if absent)',
    },
    count: {
      type: 'string',
      value: 'N',
      description: 'stop after N messages (default: no limit)',
    },
    wait: {
      type: 'string',
      value: 'MS',
      description: 'stop when no message arrives within MS (default 1000)',
    },
    ack: {
      type: 'boolean',
      description:
        'acknowledge each message (default; --no-ack hands them back)',
    },
    'max-attempts': {
      type: 'string',
      value: 'N',
      description:
        'dead-letter a message delivered more than N times (default 5)',
    },
  },
  async run({ args, options, output, signal, client }) {
    const [name] = args as [string];
    const group = options.required('group', 'GROUP');
    const count = options.integer('count', Number.POSITIVE_INFINITY, 1);
    const waitMs = options.integer('wait', 1000, 0);
    const ack = options.flag('ack', true);
    const maxAttempts = options.integer('max-attempts', undefined, 1);

    const sy = await client();
    const consumers = await sy.admin.consumers(name);
    if (!consumers.some((c) => c.name === group)) {
      output.note(
        `group '${group}' is new: it receives messages published from now on`,
      );
    }
    const consumer = await sy.channel(name, { create: false }).consumer({
      group,
      ...(maxAttempts !== undefined && { maxAttempts }),
    });

    const held: Delivery<unknown>[] = [];
    let taken = 0;
    try {
      while (taken < count && !signal.aborted) {
        const max = Math.min(count - taken, FETCH_SIZE);
        const batch = await consumer.fetch(max, { waitMs, signal });
        if (batch.length === 0) break;
        for (const delivery of batch) {
          printMessage(output, group, delivery, ack);
          if (ack) await delivery.ack();
          else held.push(delivery);
        }
        taken += batch.length;
      }
    } finally {
      await Promise.allSettled(held.map((delivery) => delivery.retry()));
      await consumer.close();
    }

    const outcome = ack ? 'acknowledged' : 'handed back to the group';
    output.note(
      taken === 0
        ? `no message arrived within ${waitMs} ms`
        : `${plural(taken, 'message')} ${outcome}`,
    );
  },
});

function printMessage(
  output: Output,
  group: string,
  delivery: Delivery<unknown>,
  acknowledged: boolean,
): void {
  const { message, attempt } = delivery;
  if (output.json) {
    output.record({
      ...describeMessage(message),
      group,
      attempt,
      acknowledged,
    });
    return;
  }
  const key =
    message.orderingKey === undefined ? '' : `  key ${message.orderingKey}`;
  output.line(
    `${message.id}  attempt ${attempt}  ${formatTime(message.publishedAt)}${key}  ${formatAttributes(message.attributes)}`,
  );
  output.line(`  ${formatData(message.data)}`);
}

/** A message's fields as JSON output shows them. */
function describeMessage(message: Message<unknown>) {
  return {
    channel: message.channel,
    id: message.id,
    publisherId: message.publisherId,
    sequence: message.sequence,
    publishedAt: message.publishedAt,
    contentType: message.contentType,
    attributes: message.attributes,
    ...(message.orderingKey !== undefined && {
      orderingKey: message.orderingKey,
    }),
    data: message.data,
  };
}
