/**
 * The network between a client and its server, faulted by a TCP proxy
 * while a producer publishes steadily and a worker group subscribes on
 * the same client: every connection cut (and new ones refused for a
 * while), latency on every chunk, and a stall in which the server falls
 * silent without closing anything.
 *
 * Whatever the fault, a publish resolves or rejects within a bound, never
 * hangs, and a rejection is retryable: a TransportUnavailableError when
 * the server cannot be reached (a refused connection), a TimeoutError
 * when it did not answer in time (a stall, or a publish held while the
 * client reconnects), after which the message may have been stored after
 * all. The producer sends a rejected message again under its id; once
 * the fault ends the subscription keeps going, every confirmed message
 * is handled (at-least-once: perhaps twice), and nothing went to the
 * dead-letter channel.
 *
 * On nats the client's only connection goes through the proxy; on aws
 * every SDK client's endpoint is the proxy, in front of moto's HTTP
 * endpoint. Local does not apply: it has no network, the store is a
 * database file the process opens.
 */
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  isRetryable,
  TimeoutError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import { eventually, within } from '../../src/testkit/helpers.ts';
import { missing, publishSteadily, untilAllDone } from './support/ledger.ts';
import type { TcpProxy } from './support/proxy.ts';
import { FaultFixture } from './support/targets.ts';

/** Messages the producer publishes, one every {@link PERIOD_MS}. */
const TOTAL = 200;
const PERIOD_MS = 10;

/**
 * A publish that has neither resolved nor rejected after this long is
 * hung, and fails the test: well past every timeout of the tuning below,
 * retries included.
 */
const HANG_MS = 30_000;

/** The longest a run may take before the test gives up on it. */
const RUN_TIMEOUT_MS = 60_000;

/**
 * Shorter timeouts than the defaults, so that a stalled request fails in
 * seconds: nats waits this long for a publish's acknowledgement; an aws
 * SDK call tries twice, each attempt this long at most.
 */
const TUNING = {
  nats: { connectTimeoutMs: 1_500 },
  aws: { requestTimeoutMs: 1_500, maxAttempts: 2 },
} as const;

type Networked = keyof typeof TUNING;

/** A publish left unsettled past {@link HANG_MS}. */
class HungPublish extends Error {}

/** A publish attempt that was rejected, and whether the fault was on. */
interface Rejection {
  id: string;
  error: unknown;
  duringFault: boolean;
}

const faults = new FaultFixture();

/**
 * Runs the producer and the subscription through `fault`, which starts
 * once a quarter of the messages are confirmed and resolves when the
 * fault is over, then waits until every confirmed message is handled.
 */
async function publishThrough(
  name: Networked,
  fault: (proxy: TcpProxy, run: Progress) => Promise<void>,
) {
  const target = await faults.target(name, TUNING[name]);
  const proxy = await faults.proxy(target);
  const client = await faults.client(target.via(proxy));
  const orders = client.channel<{ n: number }>('orders', {
    groups: ['billing'],
  });
  const handled = new Map<string, number>();
  orders.subscribe(
    (message) => {
      handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
    },
    { group: 'billing', leaseMs: 10_000, waitMs: 500 },
  );
  const progress: Progress = { confirmed: [], rejections: [], faultOn: false };

  // A test that fails leaves no producer behind for the next one.
  const stop = new AbortController();
  onTestFinished(() => stop.abort());
  const producer = publishSteadily(
    (id, n) => bounded(orders.publish({ n }, { id }), id),
    {
      count: TOTAL,
      signal: stop.signal,
      id: (n) => `order-${n}`,
      periodMs: PERIOD_MS,
      retryMs: 200,
      onConfirmed: (id) => progress.confirmed.push(id),
      onFailed: (id, error) => {
        if (error instanceof HungPublish) throw error;
        progress.rejections.push({ id, error, duringFault: progress.faultOn });
      },
    },
  );
  await eventually(() => progress.confirmed.length >= TOTAL / 4, {
    timeoutMs: RUN_TIMEOUT_MS,
    message: `the producer confirming ${TOTAL / 4} publishes`,
  });
  progress.faultOn = true;
  await fault(proxy, progress);
  progress.faultOn = false;
  const confirmedAtFaultEnd = progress.confirmed.length;
  await within(producer, RUN_TIMEOUT_MS, 'the producer confirming the rest');
  await untilAllDone(progress.confirmed, () => handled.keys(), {
    timeoutMs: RUN_TIMEOUT_MS,
    what: 'confirmed messages not handled yet',
  });

  const direct = await faults.client(target.config);
  return {
    ...progress,
    confirmedAtFaultEnd,
    handled,
    deadLetters: await direct.admin.deadLetters('orders'),
  };
}

/** What the producer did so far. */
interface Progress {
  confirmed: string[];
  rejections: Rejection[];
  faultOn: boolean;
}

function bounded<T>(publish: Promise<T>, id: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HungPublish(
            `the publish of ${id} neither resolved nor rejected within ${HANG_MS} ms`,
          ),
        ),
      HANG_MS,
    );
  });
  return Promise.race([publish, hung]).finally(() => clearTimeout(timer));
}

/**
 * The rejections other than a retryable TransportUnavailableError or
 * TimeoutError, described.
 */
function untyped(rejections: readonly Rejection[]): string[] {
  return rejections
    .filter(
      ({ error }) =>
        !(
          isRetryable(error) &&
          (error instanceof TransportUnavailableError ||
            error instanceof TimeoutError)
        ),
    )
    .map(({ id, error }) => `${id}: ${String(error)}`);
}

describe.each(['nats', 'aws'] as const)(
  'the connection to %s through a faulty network (local has no network)',
  (name) => {
    test('cut, and refused for 2 s: publishes resolve or reject as retryable, the subscription resumes, nothing confirmed is lost or dead-lettered', async () => {
      const run = await publishThrough(name, async (proxy) => {
        await proxy.cut({ refuseMs: 2_000 });
      });

      expect(run.confirmedAtFaultEnd).toBeLessThan(TOTAL);
      expect(run.confirmed).toHaveLength(TOTAL);
      expect(untyped(run.rejections)).toEqual([]);
      expect(missing(run.confirmed, run.handled)).toEqual([]);
      expect(run.deadLetters).toEqual([]);
    });

    test('delayed by 200 ms each way: publishes resolve, the subscription keeps up, nothing confirmed is lost or dead-lettered', async () => {
      const run = await publishThrough(name, async (proxy, progress) => {
        proxy.delay(200);
        const before = progress.confirmed.length;
        await eventually(() => progress.confirmed.length >= before + 10, {
          timeoutMs: RUN_TIMEOUT_MS,
          message: 'ten publishes confirmed through the delay',
        });
        proxy.delay(0);
      });

      expect(run.confirmedAtFaultEnd).toBeLessThan(TOTAL);
      expect(run.confirmed).toHaveLength(TOTAL);
      expect(run.rejections.map(({ id, error }) => `${id}: ${error}`)).toEqual(
        [],
      );
      expect(missing(run.confirmed, run.handled)).toEqual([]);
      expect(run.deadLetters).toEqual([]);
    });

    test('stalled, the server silent without closing: publishes reject as retryable instead of hanging, the subscription resumes, nothing confirmed is lost or dead-lettered', async () => {
      const run = await publishThrough(name, async (proxy, progress) => {
        proxy.stall();
        await eventually(() => progress.rejections.length > 0, {
          timeoutMs: HANG_MS,
          message: 'a publish rejected while the connection is stalled',
        });
        proxy.resume();
      });

      expect(run.confirmedAtFaultEnd).toBeLessThan(TOTAL);
      expect(run.confirmed).toHaveLength(TOTAL);
      expect(run.rejections.some((r) => r.duringFault)).toBe(true);
      expect(untyped(run.rejections)).toEqual([]);
      expect(missing(run.confirmed, run.handled)).toEqual([]);
      expect(run.deadLetters).toEqual([]);
    });
  },
);
