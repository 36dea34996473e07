/**
 * The transport unreachable for two minutes under a producer that
 * publishes with `confirm: 'outbox'` at a steady rate: publishing goes on
 * the whole time, the outbox's depth grows while nothing can be relayed,
 * and once the transport is back every published message reaches the
 * worker group, in order per ordering key, and the outbox empties.
 *
 * nats: the nats-server is stopped and started again on the same port
 * and store. aws: moto keeps its state in memory, so instead of stopping
 * it the producer reaches it through a TCP proxy that cuts every
 * connection and refuses new ones for the outage. local has no server to
 * lose: its store is the embedded database.
 *
 * The outbox's promise is the order in which the transport accepts each
 * key's messages, checked on both. Whether consumers see that order is
 * the channel's: on nats the channel is ordered and the worker group's
 * order is checked too; on aws it is a standard topic (an ordered one is
 * a FIFO topic whose consumer takes one message per call, too slow on
 * moto for thousands of messages).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Message } from '../../src/core/message.ts';
import type {
  ChannelTransport,
  Provider,
  TransportPublishOutcome,
} from '../../src/core/provider.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { sleep } from '../../src/delivery/sleep.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { missing } from './support/ledger.ts';
import { FaultFixture, type FaultTarget } from './support/targets.ts';

/** How long the transport stays unreachable. */
const OUTAGE_MS = 120_000;

/** Ordering keys the messages are spread over. */
const KEYS = 4;

const faults = new FaultFixture();
const clients: Switchyard[] = [];
const folders: string[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const timer of timers.splice(0)) clearTimeout(timer);
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    folders.splice(0).map((f) => rm(f, { recursive: true, force: true })),
  );
});

type Event = { n: number };

/** Per ordering key, the ids the transport accepted, in that order. */
type Accepted = Map<string, string[]>;

/**
 * `provider` with its channel publishes watched: each message the
 * transport accepted is appended to its key's list once it answered.
 */
function watched(provider: Provider, accepted: Accepted): Provider {
  const channels = provider.channels!;
  const publish: ChannelTransport['publish'] = async (channel, messages) => {
    const outcomes: TransportPublishOutcome[] = await channels.publish(
      channel,
      messages,
    );
    for (const [index, message] of messages.entries()) {
      if (!outcomes[index]?.ok || message.orderingKey === undefined) continue;
      const list = accepted.get(message.orderingKey) ?? [];
      list.push(message.id);
      accepted.set(message.orderingKey, list);
    }
    return outcomes;
  };
  return {
    name: provider.name,
    capabilities: provider.capabilities,
    channels: new Proxy(channels, {
      get(target, property) {
        if (property === 'publish') return publish;
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    close: () => provider.close(),
  };
}

/** Ids in the order each first appears, per ordering key. */
function firstSeenByKey(ids: readonly string[]): Map<string, string[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, string[]>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const key = keyOf(Number(id.slice(2)));
    byKey.set(key, [...(byKey.get(key) ?? []), id]);
  }
  return byKey;
}

function keyOf(n: number): string {
  return `k${n % KEYS}`;
}

/** How one provider loses its transport, and gets it back. */
interface Outage {
  /** The configuration the producer reaches the transport with. */
  producer: FaultTarget['config'];
  /**
   * Makes the transport unreachable for `ms`, then reachable again;
   * calls `down` once nothing can reach it any more.
   */
  run(ms: number, down: () => void): Promise<void>;
}

async function outageOf(target: FaultTarget): Promise<Outage> {
  if (target.nats !== undefined) {
    const server = target.nats;
    return {
      producer: target.config,
      async run(ms, down) {
        // The server acknowledges publishes until it has stopped.
        await server.halt();
        down();
        await sleep(ms);
        await server.start();
      },
    };
  }
  const proxy = await faults.proxy(target);
  return {
    producer: target.via(proxy),
    async run(ms, down) {
      // The cut closes every connection and the listener at once.
      const cutting = proxy.cut({ refuseMs: ms });
      down();
      await cutting;
    },
  };
}

const settings = {
  nats: { periodMs: 20, drainMs: 120_000, ordered: true },
  aws: { periodMs: 100, drainMs: 240_000, ordered: false },
} as const;

describe.each(['nats', 'aws'] as const)(
  'the outbox while the transport of %s is unreachable for two minutes',
  (name) => {
    test(
      'publishing goes on, and once the transport is back every message arrives in order per key and the outbox empties',
      async () => {
        const { periodMs, drainMs, ordered } = settings[name];
        const target = await faults.target(name);
        const outage = await outageOf(target);
        const folder = await mkdtemp(join(tmpdir(), 'switchyard-outage-'));
        folders.push(folder);
        const accepted: Accepted = new Map();
        const producer = createSwitchyard({
          provider: watched(await faults.provider(outage.producer), accepted),
          outbox: { path: join(folder, 'outbox.db'), pollIntervalMs: 200 },
        });
        clients.push(producer);
        const events = producer.channel<Event>('events', {
          ordered,
          groups: ['workers'],
          confirm: 'outbox',
        });

        const confirmed: string[] = [];
        const failures: unknown[] = [];
        const stop = new AbortController();
        const publishing = (async () => {
          for (let n = 0; !stop.signal.aborted; n++) {
            const id = `m-${n}`;
            try {
              await events.publish({ n }, { id, orderingKey: keyOf(n) });
              confirmed.push(id);
            } catch (error) {
              failures.push(error);
            }
            await sleep(periodMs);
          }
        })();
        const depths: number[] = [];
        const sampling = setInterval(
          () => depths.push(producer.outbox.stats().depth),
          500,
        );
        timers.push(sampling);

        await eventually(() => accepted.size > 0, {
          timeoutMs: 30_000,
          message: 'the relay sending on the channel it created',
        });
        const worker = await faults.client(target.config);
        const handled: string[] = [];
        worker
          .channel<Event>('events', { ordered })
          .subscribe(
            (message: Message<Event>) => void handled.push(message.id),
            { group: 'workers', concurrency: 4, waitMs: 500 },
          );
        await sleep(3_000);

        // Near the end of the outage nothing published since it began
        // can have left the outbox: take its figures then.
        let confirmedAtOutage = 0;
        let late: { depth: number; since: number; error: unknown } | undefined;
        await outage.run(OUTAGE_MS, () => {
          confirmedAtOutage = confirmed.length;
          const lateTimer = setTimeout(() => {
            const { depth, lastError } = producer.outbox.stats();
            const since = confirmed.length - confirmedAtOutage;
            late = { depth, since, error: lastError };
          }, OUTAGE_MS - 2_000);
          timers.push(lateTimer);
        });
        const confirmedWhileDown = confirmed.length - confirmedAtOutage;
        await sleep(5_000);
        stop.abort();
        await publishing;

        await eventually(
          () => {
            const left = missing(confirmed, new Set(handled));
            if (left.length > 0) {
              throw new Error(
                `${left.length} of ${confirmed.length} confirmed messages not handled yet, such as ${left.slice(0, 5).join(', ')}`,
              );
            }
          },
          { timeoutMs: drainMs, intervalMs: 500 },
        );
        const drained = await producer.outbox.drained({ timeoutMs: 30_000 });

        console.log(
          `${name}: ${confirmed.length} confirmed, ${confirmedWhileDown} while unreachable, depth ${late?.depth} near the end of the outage, largest depth ${Math.max(...depths)}, ${handled.length} handled`,
        );
        expect(failures).toEqual([]);
        expect(late!.since).toBeGreaterThan(0);
        expect(late!.depth).toBeGreaterThanOrEqual(late!.since);
        expect(late!.error).toBeDefined();
        expect(missing(confirmed, new Set(handled))).toEqual([]);
        for (let key = 0; key < KEYS; key++) {
          const published = confirmed.filter(
            (id) => keyOf(Number(id.slice(2))) === `k${key}`,
          );
          const relayed = firstSeenByKey(accepted.get(`k${key}`) ?? []);
          expect(relayed.get(`k${key}`)).toEqual(published);
          if (ordered) {
            expect(firstSeenByKey(handled).get(`k${key}`)).toEqual(published);
          }
        }
        expect(drained).toBe(true);
        expect(producer.outbox.stats().depth).toBe(0);
      },
      OUTAGE_MS + settings[name].drainMs + 60_000,
    );
  },
);
