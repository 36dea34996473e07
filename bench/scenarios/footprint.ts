/**
 * Memory of the local provider under a large backlog: publish it in
 * batches, then drain it with a push subscription, sampling RSS and heap
 * all along and reading them after every checkpoint of messages
 * consumed, to see whether memory stays flat while consuming.
 */
import type { Switchyard } from '../../src/index.ts';
import type { BenchConfig } from '../lib/config.ts';
import { consumePush, publishBatched } from '../lib/drive.ts';
import type { FootprintFigures } from '../lib/figures.ts';
import { withClient } from '../lib/fixtures.ts';
import {
  canCollectGarbage,
  MemorySampler,
  type MemoryWindow,
  readMemory,
} from '../lib/memory.ts';
import type { Progress, Scenario } from '../lib/scenario.ts';
import { grouped, mib, perSecond, type Row, written } from '../lib/table.ts';
import { round } from '../lib/timing.ts';

/**
 * Growth of the lowest heap between the first and the last checkpoint
 * window that still counts as flat: this many MiB, or 10% of the first.
 */
const TOLERANCE_MIB = 16;

type Checkpoint = FootprintFigures['checkpoints'][number];

export const footprintScenario: Scenario = {
  name: 'footprint',
  summary:
    'peak RSS and heap while the local provider drains a backlog of 1,000,000 (100,000 with --quick)',
  async run(config, progress) {
    const start = readMemory({ collect: true });
    const sampler = new MemorySampler(config.footprint.sampleMs);
    sampler.start();

    let measured: Measured;
    try {
      measured = await withClient('local', (client) =>
        measure(client, config, sampler, progress),
      );
    } finally {
      sampler.stop();
    }

    const figures: FootprintFigures = {
      provider: 'local',
      ...measured,
      sampleMs: config.footprint.sampleMs,
      collected: canCollectGarbage(),
      start,
      end: readMemory({ collect: true }),
      peak: { ...measured.peak, whole: sampler.whole },
      ...flatness(measured.checkpoints),
      samples: sampler.samples,
    };
    return { results: { footprint: figures }, rows: rowsOf(figures) };
  },
};

/** What the run with the client measures. */
type Measured = Pick<
  FootprintFigures,
  'messages' | 'publish' | 'consume' | 'afterPublish' | 'checkpoints'
> & { peak: Omit<FootprintFigures['peak'], 'whole'> };

async function measure(
  client: Switchyard,
  config: BenchConfig,
  sampler: MemorySampler,
  progress: Progress,
): Promise<Measured> {
  const { messages, checkpointEvery, publishBatch } = config.footprint;
  const { concurrency, batchSize } = config.footprint;
  const channel = client.channel<Uint8Array>('footprint', {
    codec: 'raw',
    groups: ['bench'],
  });

  progress(`local: publishing ${grouped(messages)} in batches`);
  const publish = await publishBatched(channel, messages, publishBatch);
  const publishWindow = sampler.mark();
  const afterPublish = readMemory({ collect: true });
  sampler.mark();

  progress(`local: consuming ${grouped(messages)}`);
  const checkpoints: Checkpoint[] = [];
  const windows: MemoryWindow[] = [];
  const consume = await consumePush(channel, messages, {
    group: 'bench',
    concurrency,
    batchSize,
    onHandled(handled) {
      if (handled % checkpointEvery !== 0) return;
      const window = sampler.mark();
      windows.push(window);
      checkpoints.push({
        consumed: handled,
        ...readMemory(),
        lowestHeapUsedMiB: window.lowestHeapUsedMiB,
      });
    },
  });

  return {
    messages,
    publish: { ...publish, batchSize: publishBatch },
    consume: { ...consume, concurrency, batchSize },
    afterPublish,
    peak: { publish: publishWindow, consume: combine(windows) },
    checkpoints,
  };
}

/**
 * Whether the heap stayed flat: the lowest heap of the last checkpoint
 * window against the first's.
 */
function flatness(checkpoints: readonly Checkpoint[]) {
  const first = checkpoints[0]?.lowestHeapUsedMiB ?? 0;
  const last = checkpoints.at(-1)?.lowestHeapUsedMiB ?? 0;
  const heapGrowthMiB = round(last - first, 1);
  const toleranceMiB = round(Math.max(TOLERANCE_MIB, first * 0.1), 1);

  return { flat: heapGrowthMiB <= toleranceMiB, heapGrowthMiB, toleranceMiB };
}

/** The extremes of several windows taken together. */
function combine(windows: readonly MemoryWindow[]): MemoryWindow {
  return {
    samples: windows.reduce((sum, w) => sum + w.samples, 0),
    peakRssMiB: Math.max(0, ...windows.map((w) => w.peakRssMiB)),
    peakHeapUsedMiB: Math.max(0, ...windows.map((w) => w.peakHeapUsedMiB)),
    lowestHeapUsedMiB: Math.min(...windows.map((w) => w.lowestHeapUsedMiB)),
  };
}

function rowsOf(figures: FootprintFigures): Row[] {
  const { peak, checkpoints, publish, consume, start, afterPublish, end } =
    figures;
  const heaps = checkpoints.map((c) => c.heapUsedMiB.toFixed(0)).join(' ');
  const lows = checkpoints.map((c) => c.lowestHeapUsedMiB.toFixed(0));
  const live = figures.collected ? 'live heap' : 'heap';
  const row = (measure: string, result: string, detail: string): Row => ({
    scenario: 'footprint',
    subject: 'local',
    measure,
    result,
    detail,
  });

  return [
    row(
      `publish ${grouped(figures.messages)}, batches of ${publish.batchSize}`,
      perSecond(publish.perSecond),
      `peak RSS ${mib(peak.publish.peakRssMiB)}, heap ${mib(peak.publish.peakHeapUsedMiB)}${written(publish)}`,
    ),
    row(
      `consume ${grouped(figures.messages)}, push`,
      perSecond(consume.perSecond),
      `peak RSS ${mib(peak.consume.peakRssMiB)}, heap ${mib(peak.consume.peakHeapUsedMiB)}${written(consume)}`,
    ),
    row(
      'peak RSS over the scenario',
      mib(peak.whole.peakRssMiB),
      `peak heap ${mib(peak.whole.peakHeapUsedMiB)}`,
    ),
    row(
      `${live}: start, after publish, end`,
      mib(afterPublish.heapUsedMiB),
      `start ${mib(start.heapUsedMiB)} (RSS ${mib(start.rssMiB)}), after publish ${mib(afterPublish.heapUsedMiB)} (RSS ${mib(afterPublish.rssMiB)}), end after close ${mib(end.heapUsedMiB)} (RSS ${mib(end.rssMiB)})`,
    ),
    row(
      `heap every ${grouped(checkpoints[0]?.consumed ?? 0)} consumed`,
      figures.flat ? 'flat' : 'growing',
      `MiB at checkpoint: ${heaps}; lowest per window: ${lows.join(' ')} (growth ${figures.heapGrowthMiB} MiB, tolerance ${figures.toleranceMiB})`,
    ),
  ];
}
