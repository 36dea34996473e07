/**
 * How much each scenario does. The default counts are sized so that a
 * full run takes a few minutes on two cores; `--quick` takes seconds and
 * only shows that every scenario works.
 */

/** Counts and settings of every scenario. */
export interface BenchConfig {
  quick: boolean;
  /** Untimed publishes before each timed publish, to warm the JIT. */
  warmup: number;
  publish: {
    /** Messages published one by one. */
    oneByOne: number;
    /** Publishes left outstanding (not yet resolved) at once. */
    window: number;
    /** Messages published with publishBatch. */
    batched: number;
    batchSize: number;
  };
  consume: {
    /** Messages published first, then consumed by each consumer. */
    messages: number;
    /** Push subscription: handlers running at once. */
    concurrency: number;
    /** Push subscription: deliveries fetched per round trip. */
    batchSize: number;
    /** Pull consumer: deliveries asked for per fetch. */
    fetchSize: number;
  };
  latency: {
    perSecond: number;
    /** How long the measured part lasts. */
    seconds: number;
    /** Published at the same rate before measuring, not measured. */
    warmupSeconds: number;
    concurrency: number;
    batchSize: number;
  };
  sqlite: {
    /** Rows inserted one per implicit transaction. */
    autocommit: number;
    /** Rows inserted in explicit transactions of `transactionSize`. */
    transactions: number;
    transactionSize: number;
  };
  nats: {
    /** Rounds of each measure; the median of the rounds is reported. */
    rounds: number;
    /** Messages published one by one, with `window` outstanding. */
    oneByOne: number;
    window: number;
    /** Messages published in batches of `batchSize`. */
    batched: number;
    batchSize: number;
    /** Backlog consumed and acknowledged by each consumer. */
    consumed: number;
    /** Push subscription: handlers running at once. */
    concurrency: number;
    /** Deliveries asked for at a time by either consumer. */
    fetchSize: number;
  };
  outbox: {
    /** Messages published per round on each side. */
    messages: number;
    /** Publishes left outstanding at once. */
    window: number;
    /** Rounds of each side; the median is reported. */
    rounds: number;
  };
  footprint: {
    /** Messages published, then consumed, on the local provider. */
    messages: number;
    /** Memory is read after every this many messages consumed. */
    checkpointEvery: number;
    publishBatch: number;
    concurrency: number;
    batchSize: number;
    sampleMs: number;
  };
}

/** The configuration of a full run, or of a `--quick` one. */
export function benchConfig(quick: boolean): BenchConfig {
  const scale = quick ? 0.1 : 1;

  return {
    quick,
    warmup: quick ? 2_000 : 10_000,
    publish: {
      oneByOne: 200_000 * scale,
      window: 1_000,
      batched: 500_000 * scale,
      batchSize: 1_000,
    },
    consume: {
      messages: 200_000 * scale,
      concurrency: 64,
      batchSize: 256,
      fetchSize: 1_000,
    },
    latency: {
      perSecond: 5_000,
      seconds: quick ? 1 : 5,
      warmupSeconds: quick ? 0.25 : 1,
      concurrency: 64,
      batchSize: 256,
    },
    sqlite: {
      autocommit: 100_000 * scale,
      transactions: 1_000_000 * scale,
      transactionSize: 500,
    },
    nats: {
      rounds: 2,
      oneByOne: 25_000 * scale,
      window: 1_000,
      batched: 30_000 * scale,
      batchSize: 1_000,
      consumed: 25_000 * scale,
      concurrency: 64,
      fetchSize: 256,
    },
    outbox: {
      messages: 100_000 * scale,
      window: 1_000,
      rounds: 2,
    },
    footprint: {
      messages: 1_000_000 * scale,
      checkpointEvery: 100_000 * scale,
      publishBatch: 1_000,
      concurrency: 64,
      batchSize: 256,
      sampleMs: 100,
    },
  };
}
