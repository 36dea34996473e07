/**
 * Throughput of the local provider at the provider contract: durable
 * publishes of 256-byte messages with random ids from many concurrent
 * callers, then fetches of up to 1000 with one acknowledgement each.
 * Not a test: run it by hand.
 *
 *   npx node test/local/throughput.ts [messages=200000] [concurrency=512]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireMessage } from '../../src/core/message.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';

const total = Number(process.argv[2] ?? 200_000);
const concurrency = Number(process.argv[3] ?? 512);
const body = new Uint8Array(256).fill(97);

function message(sequence: number): WireMessage {
  return {
    id: randomUUID(),
    channel: 'bench',
    body,
    contentType: 'application/octet-stream',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'bench',
    sequence,
  };
}

function rate(what: string, count: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  const perSecond = Math.round(count / seconds);
  console.log(`${what}: ${count} in ${seconds.toFixed(2)} s, ${perSecond}/s`);
}

const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-throughput-'));
const provider = await createLocalProvider({ dataDir });
try {
  const channels = provider.channels!;
  await channels.ensure({ name: 'bench', ordered: false, groups: ['g'] });

  let next = 0;
  const publishing = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const [outcome] = await channels.publish('bench', [message(++next)]);
        if (!outcome?.ok) throw outcome?.error;
      }
    }),
  );
  rate('publish', total, publishing);

  const consumer = await channels.consume({
    channel: 'bench',
    mode: 'group',
    name: 'g',
    leaseMs: 60_000,
    maxAttempts: 5,
  });
  let received = 0;
  const consuming = performance.now();
  while (received < total) {
    const batch = await consumer.fetch(1000, { waitMs: 100 });
    received += batch.length;
    await Promise.all(batch.map((delivery) => delivery.ack()));
  }
  rate('consume and ack', received, consuming);
} finally {
  await provider.close();
  await rm(dataDir, { recursive: true, force: true });
}
