/**
 * The figures each scenario records, as they are written to
 * `bench/results/latest.json`.
 */
import type { ProviderName } from './fixtures.ts';
import type { MemoryReading, MemorySample, MemoryWindow } from './memory.ts';
import type { LatencySummary } from './percentiles.ts';
import type { Throughput } from './timing.ts';

/** Durable publishes through the client, per provider. */
export type PublishFigures = Record<
  ProviderName,
  {
    oneByOne: Throughput & { window: number };
    batched: Throughput & { batchSize: number };
  }
>;

/** Consume-and-acknowledge through the client, per provider. */
export type ConsumeFigures = Record<
  ProviderName,
  {
    push: Throughput & {
      concurrency: number;
      batchSize: number;
      /** Messages the group had not acknowledged after the run. */
      lagAfter: number;
    };
    pull: Throughput & { fetchSize: number; lagAfter: number };
  }
>;

/** Publish-to-handler latency at a steady rate, per provider. */
export type LatencyFigures = Record<
  ProviderName,
  LatencySummary & {
    targetPerSecond: number;
    /** Publishes started per second over the measured part. */
    achievedPerSecond: number;
    seconds: number;
    failedPublishes: number;
    /** Bytes written to storage per message, where counted. */
    writtenBytesPerMessage?: number;
  }
>;

/** Raw better-sqlite3 inserts of 256-byte rows. */
export interface SqliteFigures {
  pragmas: Record<string, string>;
  autocommit: Throughput;
  transactions: Throughput & { transactionSize: number };
}

/** Memory while the local provider consumes a large backlog. */
export interface FootprintFigures {
  provider: 'local';
  messages: number;
  publish: Throughput & { batchSize: number };
  consume: Throughput & { concurrency: number; batchSize: number };
  sampleMs: number;
  /**
   * Whether `start`, `afterPublish` and `end` were read after a full
   * garbage collection, so that their heap is what is live.
   */
  collected: boolean;
  /** `process.memoryUsage()` before the client was made. */
  start: MemoryReading;
  /** Once the backlog is published, before consuming starts. */
  afterPublish: MemoryReading;
  /** After the client was closed and its folder removed. */
  end: MemoryReading;
  peak: { publish: MemoryWindow; consume: MemoryWindow; whole: MemoryWindow };
  /** Memory after every `checkpointEvery` messages consumed. */
  checkpoints: (MemoryReading & {
    consumed: number;
    /** Lowest heap sampled since the previous checkpoint. */
    lowestHeapUsedMiB: number;
  })[];
  /**
   * Whether the heap stayed flat while consuming: the lowest heap of the
   * last checkpoint window is within `toleranceMiB` of the first's.
   */
  flat: boolean;
  heapGrowthMiB: number;
  toleranceMiB: number;
  /** `[ms, rss MiB, heap used MiB]` every `sampleMs`. */
  samples: readonly MemorySample[];
}

/** One measure of the nats scenario, on the raw client or Switchyard. */
export interface NatsSide {
  /** Median rate of the rounds. */
  perSecond: number;
  /** Every round, in the order they ran. */
  rounds: Throughput[];
}

/** One way of driving NATS: Switchyard against the raw client. */
export interface NatsMeasure {
  /** How it was driven, e.g. the window or the batch size. */
  settings: Record<string, number>;
  raw: NatsSide;
  switchyard: NatsSide;
  /** Switchyard's median rate over the raw client's. */
  ratio: number;
}

/**
 * Switchyard on the nats provider against the raw NATS client, on the
 * same nats-server in the same run, the rounds alternating.
 */
export interface NatsFigures {
  server: string;
  oneByOne: NatsMeasure;
  batched: NatsMeasure;
  consume: NatsMeasure;
}

/**
 * Publishes on the local provider with `confirm: 'outbox'` next to
 * `confirm: 'transport'`: the median of the rounds of each side.
 */
export interface OutboxFigures {
  provider: 'local';
  /** Publishes outstanding at once. */
  window: number;
  /** Messages published per round. */
  messages: number;
  /** Publishes resolved once the provider stored them. */
  transport: Throughput;
  /** Publishes resolved once durable in the outbox. */
  outbox: Throughput;
  /** The same publishes, until the relay had emptied the outbox. */
  relayed: Throughput;
  /** `outbox.perSecond / transport.perSecond`. */
  ratio: number;
}

/** Everything one run measured; a scenario left out has no entry. */
export interface BenchResults {
  publish?: PublishFigures;
  consume?: ConsumeFigures;
  latency?: LatencyFigures;
  sqlite?: SqliteFigures;
  footprint?: FootprintFigures;
  nats?: NatsFigures;
  outbox?: OutboxFigures;
}
