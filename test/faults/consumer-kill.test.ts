/**
 * A consumer process killed with SIGKILL in the middle of a batch, on
 * every provider: the worker group's messages are published first, one
 * child consumer handles part of them and is killed while it holds
 * deliveries it has not acknowledged, and a second child takes over.
 *
 * What the first child had been handed and not acknowledged when it died
 * is in flight at the kill: only those may be handled twice, once their
 * lease lapses. Under exactly-once the idempotency record of each message
 * is completed once, whoever ran it.
 */
import { describe, expect, test } from 'vitest';
import type { Guarantee } from '../../src/core/channel.ts';
import { idempotencyKey } from '../../src/delivery/idempotency.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { PROVIDERS, type ProviderName } from './support/config.ts';
import {
  missing,
  repeated,
  tally,
  untilAllDone,
  untilGroupDrained,
} from './support/ledger.ts';
import {
  type ConsumerChild,
  FaultFixture,
  type FaultTarget,
} from './support/targets.ts';

/** Messages per run; moto answers tens of requests a second, so fewer. */
const COUNT: Record<ProviderName, number> = {
  local: 300,
  nats: 300,
  aws: 150,
};

/** Lease of the workers: what the killed one held comes back after it. */
const LEASE_MS = 2_000;

/** The longest a run may take before the test gives up on it. */
const RUN_TIMEOUT_MS = 45_000;

const faults = new FaultFixture();

/** What a run saw of its two consumers. */
interface Run {
  target: FaultTarget;
  ids: string[];
  first: ConsumerChild;
  second: ConsumerChild;
  /** Ids the first consumer held unacknowledged when it was killed. */
  inFlight: Set<string>;
  /** Handler runs that returned, per id, in both consumers. */
  handled: Map<string, number>;
  /** Handler runs that started, per id, in both consumers. */
  runs: Map<string, number>;
  deadLetters: unknown[];
}

async function killMidBatch(
  name: ProviderName,
  guarantee: Guarantee,
): Promise<Run> {
  const target = await faults.target(name);
  const client = await faults.client(target.config);
  const jobs = client.channel<{ n: number }>('jobs', { groups: ['workers'] });
  const ids = Array.from({ length: COUNT[name] }, (_, n) => `job-${n}`);
  const published = await jobs.publishBatch(
    ids.map((id, n) => ({ id, data: { n } })),
  );
  expect(published.filter((result) => !result.ok)).toEqual([]);
  const plan = {
    config: target.config,
    channel: 'jobs',
    group: 'workers',
    guarantee,
    leaseMs: LEASE_MS,
    concurrency: 4,
    batchSize: 16,
    handleMs: 20,
  };

  const first = await faults.consumer(plan);
  await eventually(() => first.handled().length >= ids.length / 4, {
    timeoutMs: RUN_TIMEOUT_MS,
    message: 'the first consumer handling a quarter of the messages',
  });
  await first.kill();
  const inFlight = new Set(first.unsettled());
  const second = await faults.consumer(plan);
  // Under exactly-once a message is done once its record is completed,
  // which the second consumer's acknowledgement implies: the first may
  // have completed a record and died before saying so.
  const done =
    guarantee === 'exactly-once'
      ? () => [...first.completed(), ...second.acked()]
      : () => [...first.handled(), ...second.handled()];
  await untilAllDone(ids, done, {
    timeoutMs: RUN_TIMEOUT_MS,
    detail: () =>
      `the second consumer said: ${second.stderr() || 'nothing on stderr'}`,
  });
  await untilGroupDrained(client, 'jobs', 'workers', RUN_TIMEOUT_MS);

  return {
    target,
    ids,
    first,
    second,
    inFlight,
    handled: tally([...first.handled(), ...second.handled()]),
    runs: tally([...first.started(), ...second.started()]),
    deadLetters: await client.admin.deadLetters('jobs'),
  };
}

describe.each(PROVIDERS)(
  'a consumer killed with SIGKILL in the middle of a batch on %s',
  (name) => {
    test('at-least-once: every message is handled, twice only if it was in flight at the kill, and nothing is dead-lettered', async () => {
      const run = await killMidBatch(name, 'at-least-once');

      const twiceOutsideTheKill = repeated(run.runs).filter(
        ([id]) => !run.inFlight.has(id),
      );
      expect(run.first.handled().length).toBeLessThan(run.ids.length);
      expect(run.inFlight.size).toBeGreaterThan(0);
      expect(missing(run.ids, run.handled)).toEqual([]);
      expect(twiceOutsideTheKill).toEqual([]);
      expect(run.deadLetters).toEqual([]);
    });

    test('exactly-once: every idempotency record is completed once, none is lost, and only a run in flight at the kill is repeated', async () => {
      const run = await killMidBatch(name, 'exactly-once');

      const completions = tally([
        ...run.first.completed(),
        ...run.second.completed(),
      ]);
      const records = await recordsOf(run);
      const notCompleted = records.filter((r) => r.status !== 'COMPLETED');
      // The stored result names the process whose run completed it.
      const storedByAnother = records.filter(
        (r) =>
          (run.first.completed().includes(r.id) &&
            r.pid !== run.first.process.pid) ||
          (run.second.completed().includes(r.id) &&
            r.pid !== run.second.process.pid),
      );
      const rerunOutsideTheKill = repeated(run.runs).filter(
        ([id]) => !run.inFlight.has(id),
      );
      expect(run.first.completed().length).toBeLessThan(run.ids.length);
      expect(run.inFlight.size).toBeGreaterThan(0);
      expect(notCompleted).toEqual([]);
      expect(repeated(completions)).toEqual([]);
      expect(storedByAnother).toEqual([]);
      expect(rerunOutsideTheKill).toEqual([]);
      expect(run.deadLetters).toEqual([]);
    });
  },
);

/** What the idempotency table holds for one message. */
interface RecordState {
  id: string;
  status: string;
  /** The process id in the stored handler result. */
  pid: number | undefined;
}

/**
 * The idempotency record of every id of `run`, as the subscriptions'
 * default table holds it, read by a provider of its own.
 */
async function recordsOf(run: Run): Promise<RecordState[]> {
  const provider = await faults.provider(run.target.config);
  const table = await provider.idempotency!.open('switchyard-idempotency');
  const records: RecordState[] = [];
  for (const id of run.ids) {
    const record = await table.get(idempotencyKey('workers', id));
    const result = record?.data === undefined ? {} : JSON.parse(record.data);
    records.push({
      id,
      status: record?.status ?? 'absent',
      pid: (result as { pid?: number }).pid,
    });
  }
  return records;
}
