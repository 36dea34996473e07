/**
 * A broadcast consumer and a pull consumer across switches of the
 * channels local → nats → aws (moto) → local. The guarantee: the
 * broadcast consumer, opened before the first publish, receives every
 * message published afterwards, whichever transport carried it, and the
 * pull consumer of a worker group takes every message once it has been
 * fetched from through each switch.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/config/index.ts';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';
import { type NatsTestServer, startNatsServer } from '../nats/server.ts';

const PER_PHASE = 15;

let nats: NatsTestServer;
let moto: MotoServer;
let dataDir: string;

beforeAll(async () => {
  [nats, moto] = await Promise.all([startNatsServer(), startMotoServer()]);
  dataDir = await mkdtemp(join(tmpdir(), 'switchyard-switch-broadcast-'));
});

afterAll(async () => {
  await Promise.all([nats?.stop(), moto?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('switching channels with broadcast and pull consumers', () => {
  it('a broadcast consumer hears, and a pull consumer takes, every message published on each transport', async () => {
    const stem = `b${randomBytes(3).toString('hex')}-`;
    const client = await connect({
      config: {
        provider: 'local',
        providers: {
          local: { dataDir },
          nats: { servers: nats.url, streamPrefix: stem },
          aws: { endpoint: moto.endpoint, prefix: stem },
        },
      },
      env: {},
    });
    const news = client.channel<number>('news', { groups: ['pullers'] });
    const heard: number[] = [];
    const subscription = news.subscribe((m) => void heard.push(m.data), {
      broadcast: true,
    });
    const puller = await news.consumer({ group: 'pullers', leaseMs: 5_000 });
    const taken: number[] = [];
    let pulling = true;
    const pulls = (async () => {
      while (pulling) {
        for (const delivery of await puller.fetch(10, { waitMs: 200 })) {
          taken.push(delivery.message.data);
          await delivery.ack();
        }
      }
    })();
    await until(
      async () =>
        (await client.admin.consumers('news')).some(
          (c) => c.mode === 'broadcast',
        ),
      'the broadcast consumer is open',
    );

    let n = 0;
    const carriers: string[] = [];
    try {
      for (const target of ['nats', 'aws', 'local', undefined]) {
        carriers.push(client.providerName('channels'));
        for (let i = 0; i < PER_PHASE; i++) await news.publish(n++);
        if (target === undefined) break;
        const report = await client.switchTo(
          { provider: target },
          { drainCheckMs: 300 },
        );
        expect(report.drained).toBe(true);
      }
      await until(
        () => heard.length >= n && taken.length >= n,
        `${heard.length} heard and ${taken.length} taken of ${n}`,
      );
    } finally {
      pulling = false;
      await pulls;
      await puller.close();
      await subscription.close();
      await client.close();
    }

    const all = [...Array(n).keys()];
    expect(carriers).toEqual(['local', 'nats', 'aws', 'local']);
    expect([...new Set(heard)].sort((a, b) => a - b)).toEqual(all);
    expect(new Set(taken).size).toBe(n);
  }, 180_000);
});

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
