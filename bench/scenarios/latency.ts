/**
 * End-to-end latency on each provider: messages are published at a
 * steady rate while a push subscription handles them, and each handler
 * measures the time from just before its message's publish call to its
 * own start. The first part of the run warms up and is not measured.
 */
import type { Switchyard } from '../../src/index.ts';
import type { BenchConfig } from '../lib/config.ts';
import { Countdown } from '../lib/drive.ts';
import type { LatencyFigures } from '../lib/figures.ts';
import {
  PROVIDERS,
  type ProviderName,
  payload,
  readStamp,
  withClient,
} from '../lib/fixtures.ts';
import { summarize } from '../lib/percentiles.ts';
import type { Scenario } from '../lib/scenario.ts';
import { grouped, ms, perSecond, type Row, written } from '../lib/table.ts';
import { Meter } from '../lib/timing.ts';

/** How often the publisher catches up with its schedule, in ms. */
const TICK_MS = 1;

export const latencyScenario: Scenario = {
  name: 'latency',
  summary: 'publish-to-handler latency, p50 and p99, at a steady rate',
  async run(config, progress) {
    const figures = {} as LatencyFigures;
    const rows: Row[] = [];

    for (const provider of PROVIDERS) {
      const { perSecond: rate, seconds } = config.latency;
      progress(`${provider}: ${grouped(rate)} msg/s for ${seconds} s`);
      const measured = await withClient(provider, (client) =>
        measure(client, config),
      );
      figures[provider] = measured;
      rows.push(rowOf(provider, measured));
    }

    return { results: { latency: figures }, rows };
  },
};

async function measure(
  client: Switchyard,
  config: BenchConfig,
): Promise<LatencyFigures[ProviderName]> {
  const { perSecond: rate, seconds, warmupSeconds } = config.latency;
  const warm = Math.round(rate * warmupSeconds);
  const measured = Math.round(rate * seconds);
  const total = warm + measured;
  const channel = client.channel<Uint8Array>('latency', {
    codec: 'raw',
    groups: ['bench'],
  });

  const latencies = new Float64Array(measured);
  let recorded = 0;
  const handled = new Countdown(total, 'latency subscription');
  const subscription = channel.subscribe(
    (message) => {
      const startedAt = performance.now();
      const { madeAt, index } = readStamp(message.data);
      if (index >= warm) latencies[recorded++] = startedAt - madeAt;
      handled.tick();
    },
    {
      group: 'bench',
      concurrency: config.latency.concurrency,
      batchSize: config.latency.batchSize,
    },
  );

  let publishing: Awaited<ReturnType<typeof publishAtRate>>;
  const meter = new Meter();
  try {
    publishing = await publishAtRate(
      (index) => channel.publish(payload(index)),
      { rate, total, measureFrom: warm },
    );
    if (publishing.failures.length > 0) {
      throw new Error(
        `${publishing.failures.length} publishes failed during the latency run`,
        { cause: publishing.failures[0] },
      );
    }
    await handled.done;
  } finally {
    await subscription.close();
  }
  const { writtenBytesPerMessage } = meter.stop(total);

  return {
    ...summarize(latencies.subarray(0, recorded)),
    targetPerSecond: rate,
    achievedPerSecond: publishing.achievedPerSecond,
    seconds,
    failedPublishes: publishing.failures.length,
    ...(writtenBytesPerMessage !== undefined && { writtenBytesPerMessage }),
  };
}

/**
 * Starts `total` publishes at `rate` per second without waiting for
 * them: every tick starts those the schedule says are due. Resolves once
 * all have been started and have settled, with the rate achieved from
 * publish `measureFrom` on and the errors of those that failed.
 */
async function publishAtRate(
  publish: (index: number) => Promise<unknown>,
  schedule: { rate: number; total: number; measureFrom: number },
): Promise<{ achievedPerSecond: number; failures: unknown[] }> {
  const { rate, total, measureFrom } = schedule;
  const failures: unknown[] = [];
  const pending: Promise<unknown>[] = [];
  const startedAt = performance.now();
  let measuredFrom = startedAt;
  let sent = 0;

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - startedAt;
      const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
      for (; sent < due; sent++) {
        if (sent === measureFrom) measuredFrom = performance.now();
        pending.push(publish(sent).catch((error) => failures.push(error)));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const lastStartedAt = performance.now();
  await Promise.all(pending);

  const measuredSeconds = (lastStartedAt - measuredFrom) / 1000;
  return {
    achievedPerSecond: Math.round(
      (total - measureFrom) / Math.max(measuredSeconds, 1e-3),
    ),
    failures,
  };
}

function rowOf(
  provider: ProviderName,
  figures: LatencyFigures[ProviderName],
): Row {
  return {
    scenario: 'latency',
    subject: provider,
    measure: `${perSecond(figures.targetPerSecond)} for ${figures.seconds} s`,
    result: `p50 ${ms(figures.p50Ms)}, p99 ${ms(figures.p99Ms)}`,
    detail: `p90 ${ms(figures.p90Ms)}, p99.9 ${ms(figures.p999Ms)}, max ${ms(figures.maxMs)}; ${grouped(figures.samples)} samples at ${grouped(figures.achievedPerSecond)}/s${written(figures)}`,
  };
}
