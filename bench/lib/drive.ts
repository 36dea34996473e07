/**
 * Driving a channel: publishing one by one with many publishes
 * outstanding or in batches, and consuming with a push subscription or a
 * pull consumer until a count is reached. Every message is a
 * {@link payload}.
 */
import type { Channel } from '../../src/index.ts';
import { payload } from './fixtures.ts';
import { Meter, type Throughput } from './timing.ts';

/** A consumer that makes no progress for this long has stalled. */
const STALL_MS = 30_000;

/**
 * Publishes `count` messages one by one, keeping `window` publishes
 * outstanding: each of `window` callers publishes its next message as
 * soon as its previous one resolved.
 */
export async function publishWindowed(
  channel: Channel<Uint8Array>,
  count: number,
  window: number,
): Promise<Throughput> {
  let next = 0;
  const meter = new Meter();

  const caller = async (): Promise<void> => {
    while (next < count) {
      await channel.publish(payload(next++));
    }
  };
  await Promise.all(Array.from({ length: window }, caller));

  return meter.stop(count);
}

/**
 * Publishes `count` messages with publishBatch, `batchSize` at a time,
 * one batch after the other. Throws at the first entry that failed.
 */
export async function publishBatched(
  channel: Channel<Uint8Array>,
  count: number,
  batchSize: number,
): Promise<Throughput> {
  const meter = new Meter();

  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const entries = Array.from({ length: size }, (_, offset) => ({
      data: payload(start + offset),
    }));
    for (const result of await channel.publishBatch(entries)) {
      if (!result.ok) throw result.error;
    }
  }

  return meter.stop(count);
}

/** How a push subscription consumes. */
export interface PushOptions {
  group: string;
  concurrency: number;
  batchSize: number;
  /** Called with the count after each message handled. */
  onHandled?: (handled: number) => void;
}

/**
 * Subscribes at-least-once and handles messages until `count` were
 * handled, then closes the subscription, which waits for their
 * acknowledgements. Rejects if no message is handled for 30 s.
 */
export async function consumePush(
  channel: Channel<Uint8Array>,
  count: number,
  options: PushOptions,
): Promise<Throughput> {
  const handled = new Countdown(count, `push subscription of ${channel.name}`);
  const { onHandled } = options;
  const meter = new Meter();

  const subscription = channel.subscribe(
    () => {
      handled.tick();
      onHandled?.(handled.count);
    },
    {
      group: options.group,
      guarantee: 'at-least-once',
      concurrency: options.concurrency,
      batchSize: options.batchSize,
    },
  );
  try {
    await handled.done;
  } finally {
    await subscription.close();
  }

  return meter.stop(count);
}

/**
 * Opens a pull consumer of `group` and fetches up to `fetchSize` at a
 * time, acknowledging each fetch's deliveries together, until `count`
 * were acknowledged. Rejects if fetches come back empty for 30 s.
 */
export async function consumePull(
  channel: Channel<Uint8Array>,
  count: number,
  options: { group: string; fetchSize: number },
): Promise<Throughput> {
  const consumer = await channel.consumer({ group: options.group });
  try {
    let acknowledged = 0;
    const meter = new Meter();
    let lastProgress = meter.startedAt;
    while (acknowledged < count) {
      const deliveries = await consumer.fetch(options.fetchSize, {
        waitMs: 1000,
      });
      await Promise.all(deliveries.map((delivery) => delivery.ack()));

      acknowledged += deliveries.length;
      if (deliveries.length > 0) lastProgress = performance.now();
      if (performance.now() - lastProgress > STALL_MS) {
        throw stalled(`pull consumer of ${channel.name}`, acknowledged, count);
      }
    }

    return meter.stop(acknowledged);
  } finally {
    await consumer.close();
  }
}

/**
 * A count to reach: `done` resolves on the tick that reaches `target`,
 * and rejects when no tick came for 30 s.
 */
export class Countdown {
  count = 0;
  readonly done: Promise<void>;
  readonly #target: number;
  #resolve: () => void = () => {};
  #lastCount = 0;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(target: number, what: string) {
    this.#target = target;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#watchdog = setInterval(() => {
        if (this.count !== this.#lastCount) {
          this.#lastCount = this.count;
          return;
        }
        clearInterval(this.#watchdog);
        reject(stalled(what, this.count, target));
      }, STALL_MS);
    });
    if (target <= 0) this.#finish();
  }

  tick(): void {
    this.count++;
    if (this.count === this.#target) this.#finish();
  }

  #finish(): void {
    clearInterval(this.#watchdog);
    this.#resolve();
  }
}

function stalled(what: string, reached: number, target: number): Error {
  return new Error(
    `${what} stalled at ${reached} of ${target} messages for ${STALL_MS / 1000} s`,
  );
}
