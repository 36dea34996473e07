/**
 * Switchyard on the nats provider against the raw NATS client, on one
 * nats-server of its own (a free port of 127.0.0.1, a temporary store,
 * stopped by its pid afterwards). Each measure runs in rounds that
 * alternate raw, Switchyard, raw, Switchyard, each on a fresh stream,
 * and reports the median of each side and their ratio.
 */

import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Switchyard } from '../../src/index.ts';
import { createSwitchyard } from '../../src/index.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { startNatsServer } from '../../test/nats/server.ts';
import type { BenchConfig } from '../lib/config.ts';
import { consumePush, publishBatched, publishWindowed } from '../lib/drive.ts';
import type { NatsFigures, NatsMeasure, NatsSide } from '../lib/figures.ts';
import {
  addRawStream,
  rawConsume,
  rawPublishBatched,
  rawPublishWindowed,
} from '../lib/nats.ts';
import type { Progress, Scenario } from '../lib/scenario.ts';
import { grouped, perSecond, type Row, seconds } from '../lib/table.ts';
import { round, type Throughput } from '../lib/timing.ts';

/** Both clients, connected to the same server. */
interface Clients {
  js: JetStreamClient;
  jsm: JetStreamManager;
  switchyard: Switchyard;
}

/** One round of a measure on one side, on stream or channel `name`. */
type Round = (clients: Clients, name: string) => Promise<Throughput>;

export const natsScenario: Scenario = {
  name: 'nats',
  summary:
    'Switchyard on nats against the raw NATS client: publish, batches, consume',
  async run(config, progress) {
    const server = await startNatsServer();
    try {
      // The raw client gets the connection options the provider uses, so
      // that the ratio measures Switchyard, not a client setting.
      const nc = await connect({ servers: server.url, noAsyncTraces: true });
      const provider = await createNatsProvider({ servers: server.url });
      const clients: Clients = {
        js: jetstream(nc),
        jsm: await jetstreamManager(nc),
        switchyard: createSwitchyard({ provider }),
      };
      try {
        const figures = await measureAll(clients, config, progress);
        return {
          results: { nats: { server: server.url, ...figures } },
          rows: rowsOf(figures),
        };
      } finally {
        await clients.switchyard.close();
        await nc.close();
      }
    } finally {
      await server.stop();
    }
  },
};

async function measureAll(
  clients: Clients,
  config: BenchConfig,
  progress: Progress,
): Promise<Omit<NatsFigures, 'server'>> {
  const nats = config.nats;
  const { oneByOne, window, batched, batchSize } = nats;
  const { consumed, concurrency, fetchSize } = nats;

  progress('warming up both clients');
  await addRawStream(clients.jsm, 'warmup-raw');
  await rawPublishWindowed(clients.js, 'warmup-raw', config.warmup, window);
  const warm = clients.switchyard.channel<Uint8Array>('warmup', {
    codec: 'raw',
  });
  await publishWindowed(warm, config.warmup, window);

  progress(`one by one, ${grouped(oneByOne)} with ${window} outstanding`);
  const one = await alternate('one', nats.rounds, clients, {
    async raw({ js, jsm }, name) {
      await addRawStream(jsm, name);
      return rawPublishWindowed(js, name, oneByOne, window);
    },
    switchyard({ switchyard }, name) {
      const channel = switchyard.channel<Uint8Array>(name, { codec: 'raw' });
      return publishWindowed(channel, oneByOne, window);
    },
  });

  progress(`in batches of ${batchSize}, ${grouped(batched)}`);
  const many = await alternate('batch', nats.rounds, clients, {
    async raw({ js, jsm }, name) {
      await addRawStream(jsm, name);
      return rawPublishBatched(js, name, batched, batchSize);
    },
    switchyard({ switchyard }, name) {
      const channel = switchyard.channel<Uint8Array>(name, { codec: 'raw' });
      return publishBatched(channel, batched, batchSize);
    },
  });

  progress(`consume and acknowledge a backlog of ${grouped(consumed)}`);
  const consume = await alternate('consume', nats.rounds, clients, {
    async raw({ js, jsm }, name) {
      await addRawStream(jsm, name);
      await rawPublishBatched(js, name, consumed, batchSize);
      return rawConsume(js, jsm, name, consumed, {
        durable: 'pull',
        maxMessages: fetchSize,
      });
    },
    async switchyard({ switchyard }, name) {
      const channel = switchyard.channel<Uint8Array>(name, {
        codec: 'raw',
        groups: ['push'],
      });
      await publishBatched(channel, consumed, batchSize);
      return consumePush(channel, consumed, {
        group: 'push',
        concurrency,
        batchSize: fetchSize,
      });
    },
  });

  return {
    oneByOne: { ...one, settings: { messages: oneByOne, window } },
    batched: { ...many, settings: { messages: batched, batchSize } },
    consume: {
      ...consume,
      settings: { messages: consumed, concurrency, fetchSize },
    },
  };
}

/**
 * Runs `rounds` rounds of each side, raw first, alternating, each on a
 * stream or channel of its own.
 */
async function alternate(
  label: string,
  rounds: number,
  clients: Clients,
  sides: { raw: Round; switchyard: Round },
): Promise<Omit<NatsMeasure, 'settings'>> {
  const raw: Throughput[] = [];
  const switchyard: Throughput[] = [];
  for (let round = 1; round <= rounds; round++) {
    raw.push(await sides.raw(clients, `raw-${label}-${round}`));
    switchyard.push(await sides.switchyard(clients, `sy-${label}-${round}`));
  }
  const rawSide = side(raw);
  const switchyardSide = side(switchyard);

  return {
    raw: rawSide,
    switchyard: switchyardSide,
    ratio: round(switchyardSide.perSecond / rawSide.perSecond, 3),
  };
}

function side(rounds: Throughput[]): NatsSide {
  return { perSecond: median(rounds.map((r) => r.perSecond)), rounds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1
      ? sorted[middle]!
      : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return Math.round(value);
}

function rowsOf(figures: Omit<NatsFigures, 'server'>): Row[] {
  const { oneByOne, batched, consume } = figures;
  const window = oneByOne.settings.window!;
  const batchSize = batched.settings.batchSize!;
  const { concurrency, fetchSize } = consume.settings;

  return [
    ...pair(
      oneByOne,
      `publish, ${grouped(window)} outstanding`,
      `publish, ${grouped(window)} outstanding`,
    ),
    ...pair(
      batched,
      `pipelined batch of ${grouped(batchSize)}`,
      `publishBatch of ${grouped(batchSize)}`,
    ),
    ...pair(
      consume,
      `pull consume(), max ${fetchSize}, ack each`,
      `push, concurrency ${concurrency}, batch ${fetchSize}`,
    ),
  ];
}

/** The raw row, then the Switchyard row with the ratio. */
function pair(measure: NatsMeasure, raw: string, switchyard: string) {
  const rounds = (s: NatsSide) =>
    s.rounds
      .map((r) => `${grouped(r.perSecond)} (${seconds(r.seconds)})`)
      .join(', ');

  return [
    {
      scenario: 'nats',
      subject: 'raw client',
      measure: raw,
      result: perSecond(measure.raw.perSecond),
      detail: `median of ${rounds(measure.raw)}`,
    },
    {
      scenario: 'nats',
      subject: 'switchyard',
      measure: switchyard,
      result: perSecond(measure.switchyard.perSecond),
      detail: `${measure.ratio.toFixed(2)} x raw; median of ${rounds(measure.switchyard)}`,
    },
  ];
}
