/**
 * A producer killed with SIGKILL while it publishes with
 * `confirm: 'outbox'`, then started again on the same outbox file: every
 * message it had seen confirmed reaches the worker group, in order per
 * ordering key. What the first process had not relayed yet, or had sent
 * without removing, is relayed by the second once the first one's claims
 * lapse, under the same message id.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { inspectOutbox } from '../../src/delivery/outbox-stats.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import {
  type ReportingChild,
  startReportingChild,
} from '../support/children.ts';
import { keyOf, type OutboxProducerPlan } from './outbox-producer.ts';
import type { ProviderName } from './support/config.ts';
import { missing, tally, untilAllDone } from './support/ledger.ts';
import { FaultFixture } from './support/targets.ts';

const PRODUCER = join(import.meta.dirname, 'outbox-producer.ts');

/** Ordering keys the messages are spread over. */
const KEYS = 4;

/** Lease of the outbox's claims: a killed relay's rows come back after it. */
const OUTBOX_LEASE_MS = 2_000;

const faults = new FaultFixture();
const producers: ReportingChild[] = [];
const folders: string[] = [];
afterEach(async () => {
  await Promise.all(producers.splice(0).map((child) => child.kill()));
  await Promise.all(
    folders.splice(0).map((f) => rm(f, { recursive: true, force: true })),
  );
});

async function startProducer(plan: OutboxProducerPlan, name: string) {
  const child = startReportingChild(PRODUCER, [JSON.stringify(plan)], name);
  producers.push(child);
  await child.next('ready', 30_000);
  return child;
}

/** `{prefix}{n}` back to its prefix and number. */
function parse(id: string): { prefix: string; n: number } {
  const match = /^([a-z]+-)(\d+)$/.exec(id);
  if (match === null) throw new Error(`not a message id of the test: ${id}`);
  return { prefix: match[1]!, n: Number(match[2]) };
}

/**
 * The ids handled per ordering key in the order each was first handled,
 * and the first place where a key went backwards, if any: a message of
 * the first process after one of the second, or a lower number after a
 * higher one of the same process.
 */
function orderBreaks(handled: readonly string[]): string[] {
  const rank = (id: string) => {
    const { prefix, n } = parse(id);
    return (prefix === 'first-' ? 0 : 1) * 1e9 + n;
  };
  const last = new Map<string, number>();
  const seen = new Set<string>();
  const breaks: string[] = [];
  for (const id of handled) {
    if (seen.has(id)) continue;
    seen.add(id);
    const key = keyOf(parse(id).n, KEYS);
    const previous = last.get(key) ?? -1;
    if (rank(id) < previous) breaks.push(`${id} after a later one on ${key}`);
    last.set(key, Math.max(previous, rank(id)));
  }
  return breaks;
}

const timeouts: Record<ProviderName, number> = {
  local: 120_000,
  nats: 120_000,
  aws: 240_000,
};

describe.each(['local', 'nats', 'aws'] as const)(
  'a producer with the outbox killed with SIGKILL on %s',
  (name) => {
    test(
      'loses none of the messages it had confirmed once started again on the same outbox',
      async () => {
        const target = await faults.target(name);
        const folder = await mkdtemp(join(tmpdir(), 'switchyard-outbox-kill-'));
        folders.push(folder);
        const path = join(folder, 'outbox.db');
        const plan = (
          idPrefix: string,
          count?: number,
        ): OutboxProducerPlan => ({
          config: target.config,
          outbox: { path, leaseMs: OUTBOX_LEASE_MS, pollIntervalMs: 200 },
          channel: 'events',
          groups: ['workers'],
          keys: KEYS,
          ...(count !== undefined && { count }),
          idPrefix,
          lanes: 8,
          periodMs: name === 'aws' ? 20 : 1,
        });
        const enough = name === 'aws' ? 100 : 400;

        const first = await startProducer(plan('first-'), 'first producer');
        await eventually(() => first.values('confirmed').length >= 20, {
          timeoutMs: 30_000,
          message: 'the first producer confirming publishes',
        });
        // The relay has created the channel and its group by now.
        const worker = await faults.consumer({
          config: target.config,
          channel: 'events',
          group: 'workers',
          guarantee: 'at-least-once',
          leaseMs: 5_000,
          concurrency: 4,
          batchSize: 16,
          handleMs: 0,
        });
        await eventually(() => first.values('confirmed').length >= enough, {
          timeoutMs: 60_000,
          message: `the first producer confirming ${enough} publishes`,
        });

        await first.kill();

        const confirmedByFirst = first.values<string>('confirmed');
        const leftInOutbox = inspectOutbox(path).depth;
        const second = await startProducer(plan('second-', 50), 'second');
        await second.next('done', 60_000);
        const confirmed = [
          ...confirmedByFirst,
          ...second.values<string>('confirmed'),
        ];
        await untilAllDone(confirmed, () => worker.handled(), {
          timeoutMs: timeouts[name] / 2,
          what: 'confirmed messages not handled yet',
        });

        const handled = worker.handled();
        console.log(
          `${name}: ${confirmedByFirst.length} confirmed before the kill, ${leftInOutbox} left in the outbox, ${handled.length} handled, ${[...tally(handled).values()].filter((c) => c > 1).length} handled more than once`,
        );
        expect(missing(confirmed, new Set(handled))).toEqual([]);
        // A repeat is a re-send of a published id, never anything else.
        expect(
          handled.filter((id) => !/^(first|second)-\d+$/.test(id)),
        ).toEqual([]);
        expect(orderBreaks(handled)).toEqual([]);
        await eventually(() => inspectOutbox(path).depth === 0, {
          message: 'the outbox empty',
        });
      },
      timeouts[name],
    );
  },
);
