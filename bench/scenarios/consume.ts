/**
 * Consume-and-acknowledge rate through the client on each provider: a
 * backlog is published first (untimed) on a channel with two groups,
 * then one group drains it with an at-least-once push subscription and
 * the other with a pull consumer that acknowledges each fetch.
 */
import type { Switchyard } from '../../src/index.ts';
import type { BenchConfig } from '../lib/config.ts';
import { consumePull, consumePush, publishBatched } from '../lib/drive.ts';
import type { ConsumeFigures } from '../lib/figures.ts';
import { PROVIDERS, type ProviderName, withClient } from '../lib/fixtures.ts';
import type { Progress, Scenario } from '../lib/scenario.ts';
import {
  grouped,
  perSecond,
  type Row,
  seconds,
  written,
} from '../lib/table.ts';

const CHANNEL = 'consume';

export const consumeScenario: Scenario = {
  name: 'consume',
  summary:
    'consume and acknowledge a backlog: push subscription, then pull consumer',
  async run(config, progress) {
    const figures = {} as ConsumeFigures;
    const rows: Row[] = [];

    for (const provider of PROVIDERS) {
      const measured = await withClient(provider, (client) =>
        measure(client, config, (step) => progress(`${provider}: ${step}`)),
      );
      figures[provider] = measured;
      rows.push(...rowsOf(provider, measured));
    }

    return { results: { consume: figures }, rows };
  },
};

async function measure(
  client: Switchyard,
  config: BenchConfig,
  progress: Progress,
) {
  const { messages, concurrency, batchSize, fetchSize } = config.consume;
  const channel = client.channel<Uint8Array>(CHANNEL, {
    codec: 'raw',
    groups: ['push', 'pull'],
  });

  progress(`publishing a backlog of ${grouped(messages)}`);
  await publishBatched(channel, messages, config.publish.batchSize);

  progress('push subscription');
  const push = await consumePush(channel, messages, {
    group: 'push',
    concurrency,
    batchSize,
  });
  progress('pull consumer');
  const pull = await consumePull(channel, messages, {
    group: 'pull',
    fetchSize,
  });
  const { consumers } = await client.admin.stats(CHANNEL);

  return {
    push: {
      ...push,
      concurrency,
      batchSize,
      lagAfter: consumers.push?.lag ?? Number.NaN,
    },
    pull: { ...pull, fetchSize, lagAfter: consumers.pull?.lag ?? Number.NaN },
  };
}

function rowsOf(
  provider: ProviderName,
  figures: ConsumeFigures[ProviderName],
): Row[] {
  const { push, pull } = figures;

  return [
    {
      scenario: 'consume',
      subject: provider,
      measure: `push, concurrency ${push.concurrency}, batch ${push.batchSize}`,
      result: perSecond(push.perSecond),
      detail: `${grouped(push.messages)} in ${seconds(push.seconds)}, lag after ${push.lagAfter}${written(push)}`,
    },
    {
      scenario: 'consume',
      subject: provider,
      measure: `pull, fetch ${pull.fetchSize}, ack each`,
      result: perSecond(pull.perSecond),
      detail: `${grouped(pull.messages)} in ${seconds(pull.seconds)}, lag after ${pull.lagAfter}${written(pull)}`,
    },
  ];
}
