/**
 * Durable publish rate through the client on each provider: one by one
 * with a window of publishes outstanding, then with publishBatch. A
 * publish counts once it resolved, i.e. once the provider stored it.
 */
import type { Switchyard } from '../../src/index.ts';
import type { BenchConfig } from '../lib/config.ts';
import { publishBatched, publishWindowed } from '../lib/drive.ts';
import type { PublishFigures } from '../lib/figures.ts';
import { PROVIDERS, withClient } from '../lib/fixtures.ts';
import type { Scenario } from '../lib/scenario.ts';
import {
  grouped,
  perSecond,
  type Row,
  seconds,
  written,
} from '../lib/table.ts';

export const publishScenario: Scenario = {
  name: 'publish',
  summary:
    'durable publishes of 256-byte messages, one by one and with publishBatch',
  async run(config, progress) {
    const figures = {} as PublishFigures;
    const rows: Row[] = [];

    for (const provider of PROVIDERS) {
      progress(`${provider}: one by one, then publishBatch`);
      const measured = await withClient(provider, (client) =>
        measure(client, config),
      );
      figures[provider] = measured;

      const { oneByOne, batched } = measured;
      rows.push(
        {
          scenario: 'publish',
          subject: provider,
          measure: `one by one, ${grouped(oneByOne.window)} outstanding`,
          result: perSecond(oneByOne.perSecond),
          detail: `${grouped(oneByOne.messages)} in ${seconds(oneByOne.seconds)}${written(oneByOne)}`,
        },
        {
          scenario: 'publish',
          subject: provider,
          measure: `publishBatch of ${grouped(batched.batchSize)}`,
          result: perSecond(batched.perSecond),
          detail: `${grouped(batched.messages)} in ${seconds(batched.seconds)}${written(batched)}`,
        },
      );
    }

    return { results: { publish: figures }, rows };
  },
};

/** Each way of publishing on its own channel, after a warm-up. */
async function measure(client: Switchyard, config: BenchConfig) {
  const { oneByOne, window, batched, batchSize } = config.publish;

  const single = client.channel<Uint8Array>('publish-one', { codec: 'raw' });
  await publishWindowed(single, config.warmup, window);
  const one = await publishWindowed(single, oneByOne, window);

  const batch = client.channel<Uint8Array>('publish-batch', { codec: 'raw' });
  await publishBatched(batch, config.warmup, batchSize);
  const many = await publishBatched(batch, batched, batchSize);

  return {
    oneByOne: { ...one, window },
    batched: { ...many, batchSize },
  };
}
