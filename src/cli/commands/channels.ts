/** `switchyard channels`: listing, creating, inspecting and purging. */
import type { ChannelStats } from '../../core/provider.ts';
import { defineCommand } from '../command.ts';
import { plural } from '../format.ts';
import type { Output } from '../output.ts';

/** `channels ls`. */
export const channelsLsCommand = defineCommand({
  name: 'channels ls',
  summary: 'List the channels with their depth and dead letters',
  async run({ output, client }) {
    const sy = await client();
    const rows: string[][] = [];
    for (const channel of (await sy.admin.list()).sort()) {
      const stats = await sy.admin.stats(channel);
      if (output.json) {
        output.record({ channel, ...stats });
        continue;
      }
      rows.push([
        channel,
        String(stats.depth),
        String(stats.inFlight),
        String(stats.deadLettered),
        Object.keys(stats.consumers).join(',') || '-',
      ]);
    }
    if (!output.json) {
      output.table(
        ['CHANNEL', 'DEPTH', 'IN FLIGHT', 'DEAD', 'GROUPS'],
        rows,
        'no channels',
      );
    }
  },
});

/** `channels create <channel>`. */
export const channelsCreateCommand = defineCommand({
  name: 'channels create',
  args: '<channel>',
  summary: 'Create a channel and its worker groups (idempotent)',
  details:
    'A group receives the messages published after it was created, so create\nthe groups before publishing.',
  options: {
    group: {
      type: 'string',
      multiple: true,
      value: 'GROUP',
      description: 'create worker group GROUP with the channel',
    },
    ordered: {
      type: 'boolean',
      description: 'deliver messages of one ordering key in order',
    },
  },
  async run({ args, options, output, client }) {
    const [channel] = args as [string];
    const groups = options.list('group');
    const handle = (await client()).channel(channel, {
      groups,
      ordered: options.flag('ordered'),
    });
    // An empty batch ensures the channel and its groups and sends nothing.
    await handle.publishBatch([]);

    if (output.json) output.record({ channel, groups });
    else {
      const suffix = groups.length === 0 ? '' : ` with ${groups.join(', ')}`;
      output.line(`channel ${channel} is ready${suffix}`);
    }
  },
});

/** `channels stats <channel>`. */
export const channelsStatsCommand = defineCommand({
  name: 'channels stats',
  args: '<channel>',
  summary: 'Show depth, in flight, dead letters, lag per group and the outbox',
  async run({ args, output, client }) {
    const [channel] = args as [string];
    const stats = await (await client()).admin.stats(channel);

    if (output.json) output.record({ channel, ...stats });
    else printStats(output, channel, stats);
  },
});

/** `channels purge <channel>`. */
export const channelsPurgeCommand = defineCommand({
  name: 'channels purge',
  args: '<channel>',
  summary: 'Remove messages: all, or those every group acknowledged',
  details:
    'Without options, removes every message, in flight or not. With\n--acknowledged, only those every group has acknowledged; --up-to SEQ also\nstops at channel sequence SEQ.',
  options: {
    acknowledged: {
      type: 'boolean',
      description: 'only messages every group has acknowledged',
    },
    'up-to': {
      type: 'string',
      value: 'SEQ',
      description: 'only acknowledged messages at or below sequence SEQ',
    },
  },
  async run({ args, options, output, client }) {
    const [channel] = args as [string];
    const upToSequence = options.integer('up-to', undefined, 0);
    const acknowledged =
      options.flag('acknowledged') || upToSequence !== undefined;

    const removed = await (await client()).admin.purge(channel, {
      ...(acknowledged && { acknowledged }),
      ...(upToSequence !== undefined && { upToSequence }),
    });

    if (output.json) output.record({ channel, removed });
    else output.line(`removed ${plural(removed, 'message')} from ${channel}`);
  },
});

/** `channels rm <channel>`. */
export const channelsRmCommand = defineCommand({
  name: 'channels rm',
  args: '<channel>',
  summary: 'Delete a channel with its messages, groups and dead letters',
  async run({ args, output, client }) {
    const [channel] = args as [string];
    await (await client()).admin.delete(channel);

    if (output.json) output.record({ channel, deleted: true });
    else output.line(`deleted channel ${channel}`);
  },
});

function printStats(output: Output, channel: string, stats: ChannelStats) {
  output.line(`channel        ${channel}`);
  output.line(`depth          ${stats.depth}`);
  output.line(`in flight      ${stats.inFlight}`);
  output.line(`dead-lettered  ${stats.deadLettered}`);
  if (stats.outbox !== undefined) {
    const { depth, oldestAgeMs, failed } = stats.outbox;
    const oldest = depth === 0 ? '' : `, oldest ${oldestAgeMs} ms old`;
    output.line(
      `outbox         ${plural(depth, 'message')} waiting${oldest}, ${failed} refused`,
    );
  }
  const rows = Object.entries(stats.consumers).map(([name, c]) => [
    name,
    String(c.lag),
    String(c.inFlight),
  ]);
  if (rows.length === 0) {
    output.line('groups         none');
    return;
  }
  output.line('');
  output.table(['GROUP', 'LAG', 'IN FLIGHT'], rows, '');
}
