/**
 * The producer outbox through the public client API on real transports:
 * the local provider in a temporary data folder, and nats on a
 * nats-server of this file's own. A client publishes with
 * `confirm: 'outbox'`; a worker group on the transport receives.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Subscription } from '../../src/core/channel.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Message } from '../../src/core/message.ts';
import type { Provider } from '../../src/core/provider.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import type { OutboxSettings } from '../../src/delivery/outbox-client.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { type NatsTestServer, startNatsServer } from '../nats/server.ts';

type Step = { key: string; n: number };

const KEYS = ['a', 'b', 'c'];

let nats: NatsTestServer | undefined;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.stop();
});

const folders: string[] = [];
const clients: Switchyard[] = [];
const subscriptions: Subscription[] = [];
afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    folders.splice(0).map((f) => rm(f, { recursive: true, force: true })),
  );
});

async function folder(): Promise<string> {
  const made = await mkdtemp(join(tmpdir(), 'switchyard-outbox-delivery-'));
  folders.push(made);
  return made;
}

/** A fresh provider of `name` in a namespace of its own. */
type ProviderMaker = () => Promise<Provider>;

async function transports(): Promise<Record<string, ProviderMaker>> {
  const dataDir = await folder();
  const streamPrefix = `o${randomBytes(4).toString('hex')}`;
  return {
    local: () => createLocalProvider({ dataDir }),
    nats: () =>
      createNatsProvider({
        servers: nats!.url,
        connectTimeoutMs: 2_000,
        streamPrefix,
      }),
  };
}

async function client(
  provider: Provider,
  outbox: OutboxSettings,
): Promise<Switchyard> {
  const made = createSwitchyard({ provider, outbox });
  clients.push(made);
  return made;
}

function work(sy: Switchyard, channel: string) {
  const received: Message<Step>[] = [];
  subscriptions.push(
    sy.channel<Step>(channel, { ordered: true }).subscribe(
      (message) => {
        received.push(message);
      },
      { group: 'workers', concurrency: 4, waitMs: 100 },
    ),
  );
  return received;
}

/** The steps of each key in the order they first arrived. */
function orderByKey(received: readonly Message<Step>[]) {
  const seen = new Set<string>();
  const order: Record<string, number[]> = {};
  for (const message of received) {
    if (seen.has(message.id)) continue;
    seen.add(message.id);
    order[message.data.key] = [
      ...(order[message.data.key] ?? []),
      message.data.n,
    ];
  }
  return order;
}

describe.each(['local', 'nats'])('the outbox on %s', (name) => {
  test('every message confirmed by the outbox reaches the worker group, in order per key, and the outbox empties', async () => {
    const make = (await transports())[name]!;
    const sy = await client(await make(), {
      path: join(await folder(), 'outbox.db'),
    });
    const steps = sy.channel<Step>('steps', {
      ordered: true,
      groups: ['workers'],
      confirm: 'outbox',
    });
    const received = work(sy, 'steps');

    const receipts = [];
    for (let n = 0; n < 60; n++) {
      for (const key of KEYS) {
        receipts.push(await steps.publish({ key, n }, { orderingKey: key }));
      }
    }
    const batch = await steps.publishBatch(
      KEYS.flatMap((key) =>
        [60, 61].map((n) => ({ data: { key, n }, orderingKey: key })),
      ),
    );
    await eventually(() => new Set(received.map((m) => m.id)).size === 186, {
      timeoutMs: 30_000,
      message: 'every message received',
    });
    const drained = await sy.outbox.drained({ timeoutMs: 10_000 });

    expect(receipts.every((r) => r.confirmedBy === 'outbox')).toBe(true);
    expect(batch.every((r) => r.ok && r.confirmedBy === 'outbox')).toBe(true);
    const expected = Array.from({ length: 62 }, (_, n) => n);
    expect(orderByKey(received)).toEqual({
      a: expected,
      b: expected,
      c: expected,
    });
    expect(drained).toBe(true);
    expect(sy.outbox.stats()).toMatchObject({ depth: 0, failed: 0 });
    expect((await sy.admin.stats('steps')).outbox).toEqual({
      depth: 0,
      oldestAgeMs: 0,
      failed: 0,
    });
  }, 60_000);

  test('a client that starts on the same outbox file relays what an earlier one left', async () => {
    const makers = await transports();
    const path = join(await folder(), 'outbox.db');
    // The channel does not exist yet and may not be created: the relay
    // retries, and what it could not send stays in the file.
    const first = await client(await makers[name]!(), {
      path,
      closeTimeoutMs: 300,
    });
    const early = first.channel<Step>('steps', {
      ordered: true,
      create: false,
      confirm: 'outbox',
    });
    for (let n = 0; n < 10; n++) {
      await early.publish({ key: 'a', n }, { orderingKey: 'a' });
    }
    await eventually(() => first.outbox.stats().retried > 0);
    await first.close();

    const second = await client(await makers[name]!(), { path });
    const leftAtStart = second.outbox.stats().depth;
    const steps = second.channel<Step>('steps', {
      ordered: true,
      groups: ['workers'],
      confirm: 'outbox',
    });
    const received = work(second, 'steps');
    await steps.publish({ key: 'a', n: 10 }, { orderingKey: 'a' });

    await eventually(() => new Set(received.map((m) => m.id)).size === 11, {
      timeoutMs: 30_000,
      message: 'the left and the new messages received',
    });
    expect(leftAtStart).toBe(10);
    expect(orderByKey(received)).toEqual({
      a: Array.from({ length: 11 }, (_, n) => n),
    });
    expect(await second.outbox.drained({ timeoutMs: 10_000 })).toBe(true);
  }, 60_000);
});
