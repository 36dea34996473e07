/**
 * The producer outbox on the local provider: the rate of publishes with
 * `confirm: 'outbox'` (resolved once durable in the outbox, fsync per
 * group of publishes) next to `confirm: 'transport'` (resolved once the
 * provider stored them), one by one with a window of publishes
 * outstanding, and how long the relay then takes to empty the outbox.
 * Rounds alternate transport, outbox, transport, outbox, each on a fresh
 * data folder; the median of each side is reported with their ratio.
 */
import { join } from 'node:path';
import { createSwitchyard } from '../../src/index.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import type { BenchConfig } from '../lib/config.ts';
import { publishWindowed } from '../lib/drive.ts';
import type { OutboxFigures } from '../lib/figures.ts';
import { withDataDir } from '../lib/fixtures.ts';
import type { Scenario } from '../lib/scenario.ts';
import {
  grouped,
  perSecond,
  type Row,
  seconds,
  written,
} from '../lib/table.ts';
import { Meter, round, type Throughput } from '../lib/timing.ts';

/** One round of one side. */
interface Measured {
  confirmed: Throughput;
  /** Until the outbox was empty; the same as `confirmed` for transport. */
  relayed: Throughput;
}

export const outboxScenario: Scenario = {
  name: 'outbox',
  summary:
    "local publishes with confirm 'outbox' next to confirm 'transport', and the relay",
  async run(config, progress) {
    const { messages, window, rounds } = config.outbox;
    const transport: Measured[] = [];
    const outbox: Measured[] = [];
    for (let round = 1; round <= rounds; round++) {
      progress(`round ${round} of ${rounds}: confirm 'transport'`);
      transport.push(await measure('transport', config));
      progress(`round ${round} of ${rounds}: confirm 'outbox'`);
      outbox.push(await measure('outbox', config));
    }

    const figures: OutboxFigures = {
      provider: 'local',
      window,
      messages,
      transport: median(transport.map((m) => m.confirmed)),
      outbox: median(outbox.map((m) => m.confirmed)),
      relayed: median(outbox.map((m) => m.relayed)),
      ratio: 0,
    };
    figures.ratio = round(
      figures.outbox.perSecond / figures.transport.perSecond,
      3,
    );

    return { results: { outbox: figures }, rows: rowsOf(figures) };
  },
};

/** One round of `confirm` on a fresh folder, after a warm-up. */
function measure(
  confirm: 'transport' | 'outbox',
  config: BenchConfig,
): Promise<Measured> {
  const { messages, window } = config.outbox;
  return withDataDir(async (dataDir) => {
    const client = createSwitchyard({
      provider: await createLocalProvider({ dataDir }),
      outbox: { path: join(dataDir, 'outbox.db') },
    });
    try {
      const channel = client.channel<Uint8Array>(`publish-${confirm}`, {
        codec: 'raw',
        confirm,
      });
      await publishWindowed(channel, config.warmup, window);
      await client.outbox.drained();

      const meter = new Meter();
      const confirmed = await publishWindowed(channel, messages, window);
      await client.outbox.drained();
      const relayed = meter.stop(messages);

      return { confirmed, relayed: confirm === 'outbox' ? relayed : confirmed };
    } finally {
      await client.close();
    }
  });
}

/** The round of median rate (the lower middle one of an even count). */
function median(rounds: readonly Throughput[]): Throughput {
  const sorted = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function rowsOf(figures: OutboxFigures): Row[] {
  const { transport, outbox, relayed, window } = figures;
  const measure = `one by one, ${grouped(window)} outstanding`;
  return [
    {
      scenario: 'outbox',
      subject: "local, confirm 'transport'",
      measure,
      result: perSecond(transport.perSecond),
      detail: `${grouped(transport.messages)} in ${seconds(transport.seconds)}${written(transport)}`,
    },
    {
      scenario: 'outbox',
      subject: "local, confirm 'outbox'",
      measure,
      result: perSecond(outbox.perSecond),
      detail: `${grouped(outbox.messages)} in ${seconds(outbox.seconds)}${written(outbox)}; ${figures.ratio.toFixed(2)} x transport`,
    },
    {
      scenario: 'outbox',
      subject: "local, confirm 'outbox'",
      measure: 'published and relayed until the outbox was empty',
      result: perSecond(relayed.perSecond),
      detail: `${grouped(relayed.messages)} in ${seconds(relayed.seconds)}`,
    },
  ];
}
