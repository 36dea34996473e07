/**
 * A worker group across a restart of nats-server while a producer
 * publishes at a steady rate: what the producer saw confirmed is handled
 * at least once, and under exactly-once no message is handled twice.
 *
 * The producer re-sends a publish that failed with the same message id,
 * as a producer that wants its message through does; the stream's
 * duplicate window drops a re-send of one that was stored after all.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { Guarantee, Subscription } from '../../src/core/channel.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { sleep } from '../../src/delivery/sleep.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import {
  missing,
  publishSteadily,
  repeated,
} from '../faults/support/ledger.ts';
import { bucketName } from './fixtures.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

/** Messages the producer publishes, one every {@link PERIOD_MS}. */
const TOTAL = 300;
const PERIOD_MS = 10;

/** Lease of the workers: what is not acknowledged comes back after it. */
const LEASE_MS = 3_000;

type Job = { n: number };

let server: NatsTestServer | undefined;
let client: Switchyard | undefined;
const subscriptions: Subscription[] = [];

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.close()));
  await client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
});

/** What one run saw: confirmed publishes and handler runs per id. */
interface Run {
  confirmed: string[];
  handled: Map<string, number>;
  failedPublishes: number;
  /** Publishes confirmed when the server was back. */
  confirmedAtRestart: number;
}

async function publishThroughRestart(guarantee: Guarantee): Promise<Run> {
  server = await startNatsServer();
  const provider = await createNatsProvider({
    servers: server.url,
    connectTimeoutMs: 2_000,
  });
  client = createSwitchyard({ provider });
  const name = bucketName('jobs');
  const channel = client.channel<Job>(name, { groups: ['workers'] });
  const run: Run = {
    confirmed: [],
    handled: new Map(),
    failedPublishes: 0,
    confirmedAtRestart: 0,
  };

  for (let member = 0; member < 2; member++) {
    const subscription = channel.subscribe(
      (message) => {
        run.handled.set(message.id, (run.handled.get(message.id) ?? 0) + 1);
      },
      { group: 'workers', guarantee, leaseMs: LEASE_MS, waitMs: 200 },
    );
    subscriptions.push(subscription);
  }

  const producer = publishSteadily((id, n) => channel.publish({ n }, { id }), {
    count: TOTAL,
    id: (n) => `job-${n}`,
    periodMs: PERIOD_MS,
    retryMs: 100,
    onConfirmed: (id) => run.confirmed.push(id),
    onFailed: () => run.failedPublishes++,
  });

  await eventually(() => run.confirmed.length >= TOTAL / 3, {
    timeoutMs: 20_000,
  });
  await server.restart();
  run.confirmedAtRestart = run.confirmed.length;
  await producer;
  await eventually(() => run.confirmed.every((id) => run.handled.has(id)), {
    timeoutMs: 40_000,
    message: 'every confirmed message handled',
  });
  return run;
}

describe('a worker group while nats-server restarts under a steady producer', () => {
  test('at-least-once: every confirmed message is handled, none is lost', async () => {
    const run = await publishThroughRestart('at-least-once');

    const lost = missing(run.confirmed, run.handled);
    expect(run.confirmedAtRestart).toBeLessThan(TOTAL);
    expect(run.confirmed).toHaveLength(TOTAL);
    expect(lost).toEqual([]);
  }, 90_000);

  test('exactly-once: every confirmed message is handled once', async () => {
    const run = await publishThroughRestart('exactly-once');
    // Leave time for a message whose acknowledgement the restart lost to
    // come back after its lease and be recognised as handled.
    await sleep(LEASE_MS + 1_000);

    const twice = repeated(run.handled);
    expect(run.confirmedAtRestart).toBeLessThan(TOTAL);
    expect(run.confirmed).toHaveLength(TOTAL);
    expect(run.handled.size).toBe(TOTAL);
    expect(twice).toEqual([]);
  }, 90_000);
});
