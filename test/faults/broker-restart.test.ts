/**
 * The broker restarted while a producer process and a worker group of two
 * consumer processes run: nats-server is stopped and started again on
 * the same port and store folder while the producer publishes at a
 * steady rate, re-sending under the same id what failed.
 *
 * Only nats applies: local has no broker (the store is the embedded
 * database each process opens), and moto keeps its state in memory, so
 * restarting it gives a new, empty service rather than a broker that
 * comes back with its queues.
 */
import { describe, expect, test } from 'vitest';
import type { Guarantee } from '../../src/core/channel.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import {
  missing,
  repeated,
  tally,
  untilAllDone,
  untilGroupDrained,
} from './support/ledger.ts';
import { FaultFixture } from './support/targets.ts';

/** Messages the producer publishes, one every {@link PERIOD_MS}. */
const TOTAL = 300;
const PERIOD_MS = 10;

/** Lease of the workers: an acknowledgement the restart lost comes back. */
const LEASE_MS = 3_000;

/** The longest a run may take before the test gives up on it. */
const RUN_TIMEOUT_MS = 60_000;

const faults = new FaultFixture();

async function restartUnderLoad(guarantee: Guarantee) {
  const target = await faults.target('nats');
  const plan = {
    config: target.config,
    channel: 'jobs',
    group: 'workers',
    guarantee,
    leaseMs: LEASE_MS,
    concurrency: 2,
    batchSize: 8,
    handleMs: 2,
  };
  const workers = await Promise.all([
    faults.consumer(plan),
    faults.consumer(plan),
  ]);
  const producer = await faults.producer({
    config: target.config,
    channel: 'jobs',
    groups: ['workers'],
    count: TOTAL,
    idPrefix: 'job-',
    lanes: 1,
    periodMs: PERIOD_MS,
    retryMs: 100,
  });
  await eventually(() => producer.confirmed().length >= TOTAL / 3, {
    timeoutMs: RUN_TIMEOUT_MS,
    message: `the producer confirming ${TOTAL / 3} publishes`,
  });

  await target.nats!.restart();

  const confirmedAtRestart = producer.confirmed().length;
  await producer.next('done', RUN_TIMEOUT_MS);
  const confirmed = producer.confirmed();
  const done = () =>
    workers.flatMap((w) =>
      guarantee === 'exactly-once' ? w.completed() : w.handled(),
    );
  await untilAllDone(confirmed, done, {
    timeoutMs: RUN_TIMEOUT_MS,
    what: 'confirmed messages not done yet',
  });
  // Nothing left to be delivered again: every delivery is acknowledged.
  const client = await faults.client(target.config);
  await untilGroupDrained(client, 'jobs', 'workers', RUN_TIMEOUT_MS);

  return {
    confirmed,
    confirmedAtRestart,
    failedPublishes: producer.failures(),
    handled: tally(workers.flatMap((w) => w.handled())),
    runs: tally(workers.flatMap((w) => w.started())),
    completions: tally(workers.flatMap((w) => w.completed())),
    deadLetters: await client.admin.deadLetters('jobs'),
  };
}

describe('nats-server restarted under a producer and a worker group (local has no broker; a restarted moto is a new, empty service)', () => {
  test('at-least-once: every confirmed message is handled, none is lost, nothing is dead-lettered', async () => {
    const run = await restartUnderLoad('at-least-once');

    expect(run.confirmedAtRestart).toBeLessThan(TOTAL);
    expect(run.confirmed).toHaveLength(TOTAL);
    expect(missing(run.confirmed, run.handled)).toEqual([]);
    expect(run.failedPublishes.filter((f) => !f.retryable)).toEqual([]);
    expect(run.deadLetters).toEqual([]);
  });

  test('exactly-once: every confirmed message is completed once and handled once, none is lost, nothing is dead-lettered', async () => {
    const run = await restartUnderLoad('exactly-once');

    expect(run.confirmedAtRestart).toBeLessThan(TOTAL);
    expect(run.confirmed).toHaveLength(TOTAL);
    expect(missing(run.confirmed, run.completions)).toEqual([]);
    expect(repeated(run.completions)).toEqual([]);
    expect(repeated(run.runs)).toEqual([]);
    expect(run.failedPublishes.filter((f) => !f.retryable)).toEqual([]);
    expect(run.deadLetters).toEqual([]);
  });
});
