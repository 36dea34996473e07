/**
 * Sample `RouterEvent`s, made by the reference pipeline's generator, for
 * tests and for publishing by hand:
 *
 *     switchyard publish kv-events --file events/kv-events/stored.json \
 *       --key sample-1 --id sample-1-1
 *     switchyard publish kv-events --file events/kv-events/sample-1.json \
 *       --key sample-1
 *
 * Their workers are named `sample-{n}`, apart from the simulated
 * `worker-{n}`, so publishing them into a running pipeline does not
 * disturb the simulated workers' order; the pipeline's check then
 * reports the sample workers as not expected.
 */
import { generateEvents } from '../functions/generator.ts';
import type { RouterEvent } from '../functions/router-event.ts';

/** Where the samples are written, under `events/`. */
export const SAMPLE_FOLDER = 'kv-events';

/** Events of the samples' generator run. */
const SAMPLE_RUN = {
  seed: 42,
  count: 400,
  workers: 2,
  workerPrefix: 'sample-',
};
/** Events per worker in the `sample-{n}.json` files. */
const PER_WORKER = 25;

/**
 * The sample files by name: `stored.json`, `removed.json` and
 * `cleared.json` hold one event each (the first of their kind of worker
 * `sample-1`); `sample-{n}.json` hold the first events of a worker, in
 * order, as an array.
 */
export function sampleFiles(): Record<string, RouterEvent | RouterEvent[]> {
  const events = generateEvents(SAMPLE_RUN);
  const first = events.filter((e) => e.workerId === 'sample-1');
  const files: Record<string, RouterEvent | RouterEvent[]> = {
    'stored.json': find(first, (e) => e.stored !== undefined),
    'removed.json': find(first, (e) => e.removed !== undefined),
    'cleared.json': find(first, (e) => e.cleared === true),
  };
  for (let n = 1; n <= SAMPLE_RUN.workers; n++) {
    const own = events.filter((e) => e.workerId === `sample-${n}`);
    files[`sample-${n}.json`] = own.slice(0, PER_WORKER);
  }
  return files;
}

/** The text a sample file holds: formatted JSON and a final newline. */
export function sampleText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function find(
  events: readonly RouterEvent[],
  test: (event: RouterEvent) => boolean,
): RouterEvent {
  const event = events.find(test);
  if (event === undefined) {
    throw new Error('the sample run has no event of this kind');
  }
  return event;
}
