/**
 * Switching a running pipeline's channels local → nats → aws (moto) →
 * local while a producer publishes at a steady rate and a worker group
 * consumes under exactly-once. The guarantee: nothing published is lost,
 * and no message is handled twice, since the idempotency records stay on
 * the local provider throughout. The pause each switch causes to
 * publishing is measured and printed, not asserted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/config/index.ts';
import type { SwitchReport } from '../../src/index.ts';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';
import { type NatsTestServer, startNatsServer } from '../nats/server.ts';

const CHANNEL = 'load';
const GROUP = 'workers';
/** Interval between publishes: 40 per second, within what moto serves. */
const INTERVAL_MS = 25;
/** How long each provider carries the load before the next switch. */
const PHASE_MS = 3_000;
/**
 * How long the handler takes: slower than the producer, so that each
 * switch leaves a backlog on the old transport to drain.
 */
const HANDLER_MS = 30;

let nats: NatsTestServer;
let moto: MotoServer;
let dataDir: string;

beforeAll(async () => {
  [nats, moto] = await Promise.all([startNatsServer(), startMotoServer()]);
  dataDir = await mkdtemp(join(tmpdir(), 'switchyard-switch-'));
});

afterAll(async () => {
  await Promise.all([nats?.stop(), moto?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Publish times, to find the longest pause around each switch. */
interface Published {
  id: string;
  at: number;
}

describe('switching channels at runtime under load', () => {
  it.each(['transport', 'outbox'] as const)(
    'moves local → nats → aws → local with every message handled exactly once, publishes confirmed by the %s',
    async (confirm) => {
      const stem = `${confirm}-${randomBytes(3).toString('hex')}-`;
      const client = await connect({
        config: {
          provider: 'local',
          providers: {
            local: { dataDir: join(dataDir, stem) },
            nats: { servers: nats.url, streamPrefix: stem },
            aws: { endpoint: moto.endpoint, prefix: stem },
          },
          outbox: { path: join(dataDir, `${stem}outbox.db`) },
        },
        env: {},
      });
      const runs = new Map<string, number>();
      const handled = new Map<string, string>();
      const channel = client.channel<{ n: number }>(CHANNEL, {
        groups: [GROUP],
        confirm,
      });
      const subscription = channel.subscribe(
        async (message) => {
          runs.set(message.id, (runs.get(message.id) ?? 0) + 1);
          await sleep(HANDLER_MS);
          handled.set(message.id, client.providerName('channels'));
        },
        {
          group: GROUP,
          guarantee: 'exactly-once',
          concurrency: 1,
          leaseMs: 30_000,
        },
      );

      const published: Published[] = [];
      const failures: unknown[] = [];
      let producing = true;
      const producer = (async () => {
        let n = 0;
        while (producing) {
          const started = Date.now();
          try {
            const receipt = await channel.publish({ n: n++ });
            published.push({ id: receipt.id, at: Date.now() });
          } catch (error) {
            failures.push(error);
          }
          const wait = INTERVAL_MS - (Date.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      })();

      const reports: {
        report: SwitchReport;
        pauseMs: number;
        backlog: number;
      }[] = [];
      try {
        for (const target of ['nats', 'aws', 'local']) {
          await sleep(PHASE_MS);
          const switchStarted = Date.now();
          const report = await client.switchTo(
            { provider: target },
            { drainCheckMs: 500 },
          );
          reports.push({
            report,
            pauseMs: longestGap(published, switchStarted, Date.now()),
            backlog: published.length - handled.size,
          });
          expect(client.providerName('channels')).toBe(target);
        }
        await sleep(PHASE_MS);
      } finally {
        producing = false;
        await producer;
      }

      await eventually(
        () => handled.size >= published.length,
        120_000,
        () => `${handled.size} of ${published.length} handled`,
      );
      await subscription.close();
      const dead = await client.admin.deadLetters(CHANNEL);
      await client.close();

      for (const { report, pauseMs, backlog } of reports) {
        console.info(
          `confirm ${confirm}, switch ${report.from} -> ${report.to}: longest publish gap ${pauseMs} ms, prepare ${report.prepareMs} ms, drain ${report.drainMs} ms, backlog after it ${backlog}`,
        );
      }
      expect(failures).toEqual([]);
      expect(reports.every((r) => r.report.drained)).toBe(true);
      const missing = published.filter((p) => !handled.has(p.id));
      expect(missing).toEqual([]);
      const twice = [...runs].filter(([, count]) => count > 1);
      expect(twice).toEqual([]);
      const carriers = new Set(handled.values());
      expect([...carriers].sort()).toEqual(['aws', 'local', 'nats']);
      expect(dead).toEqual([]);
    },
    240_000,
  );
});

/** The longest time between two publishes that end within [from, to]. */
function longestGap(published: Published[], from: number, to: number) {
  let longest = 0;
  let previous = published.findLast((p) => p.at < from)?.at ?? from;
  for (const p of published) {
    if (p.at < from) continue;
    if (p.at > to + 1_000) break;
    longest = Math.max(longest, p.at - previous);
    previous = p.at;
  }
  return longest;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function eventually(
  check: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`not reached within ${timeoutMs} ms: ${describe()}`);
    }
    await sleep(50);
  }
}
