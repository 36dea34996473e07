/**
 * Figures read against each other: the local provider as a share of the
 * raw driver's inserts and of the memory provider, and the throughput
 * goal of the local provider.
 */
import type { BenchResults } from './figures.ts';
import { round } from './timing.ts';

/** Throughput goal of the local provider, publishing and consuming. */
export const LOCAL_GOAL_PER_SECOND = 50_000;

/** Least share of the raw NATS client's rate Switchyard should reach. */
export const NATS_GOAL_RATIO = 0.9;

/** One figure divided by another. */
export interface Ratio {
  name: string;
  numerator: number;
  denominator: number;
  value: number;
}

/** Whether a figure of the local provider meets the goal. */
export interface Goal {
  name: string;
  perSecond: number;
  target: number;
  met: boolean;
}

/** Whether Switchyard on nats reaches {@link NATS_GOAL_RATIO} of raw. */
export interface NatsGoal {
  name: string;
  ratio: number;
  target: number;
  met: boolean;
}

/** The ratios the figures of `results` allow; missing ones are left out. */
export function ratios(results: BenchResults): Ratio[] {
  const { publish, consume, sqlite, nats, outbox } = results;
  const raw500 = sqlite?.transactions.perSecond;
  const rawOne = sqlite?.autocommit.perSecond;
  const list: [string, number | undefined, number | undefined][] = [
    [
      'local publish, window / raw transactions of 500',
      publish?.local.oneByOne.perSecond,
      raw500,
    ],
    [
      'local publishBatch / raw transactions of 500',
      publish?.local.batched.perSecond,
      raw500,
    ],
    [
      'local publish, window / raw autocommit inserts',
      publish?.local.oneByOne.perSecond,
      rawOne,
    ],
    [
      'local push consume / raw transactions of 500',
      consume?.local.push.perSecond,
      raw500,
    ],
    [
      'local pull consume / raw transactions of 500',
      consume?.local.pull.perSecond,
      raw500,
    ],
    [
      'local publish, window / memory publish, window',
      publish?.local.oneByOne.perSecond,
      publish?.memory.oneByOne.perSecond,
    ],
    [
      'local publishBatch / memory publishBatch',
      publish?.local.batched.perSecond,
      publish?.memory.batched.perSecond,
    ],
    [
      'local push consume / memory push consume',
      consume?.local.push.perSecond,
      consume?.memory.push.perSecond,
    ],
    [
      'local pull consume / memory pull consume',
      consume?.local.pull.perSecond,
      consume?.memory.pull.perSecond,
    ],
    [
      'nats publish, window / raw client publish, window',
      nats?.oneByOne.switchyard.perSecond,
      nats?.oneByOne.raw.perSecond,
    ],
    [
      'nats publishBatch / raw client pipelined batch',
      nats?.batched.switchyard.perSecond,
      nats?.batched.raw.perSecond,
    ],
    [
      'nats push consume / raw client pull consume()',
      nats?.consume.switchyard.perSecond,
      nats?.consume.raw.perSecond,
    ],
    [
      "local publish, confirm 'outbox' / confirm 'transport'",
      outbox?.outbox.perSecond,
      outbox?.transport.perSecond,
    ],
    [
      "local publish relayed through the outbox / confirm 'transport'",
      outbox?.relayed.perSecond,
      outbox?.transport.perSecond,
    ],
  ];

  return list.flatMap(([name, numerator, denominator]) =>
    numerator === undefined || denominator === undefined || denominator === 0
      ? []
      : [
          {
            name,
            numerator,
            denominator,
            value: round(numerator / denominator, 3),
          },
        ],
  );
}

/** The local provider's figures against {@link LOCAL_GOAL_PER_SECOND}. */
export function goals(results: BenchResults): Goal[] {
  const { publish, consume } = results;
  const list: [string, number | undefined][] = [
    ['local publish, one by one', publish?.local.oneByOne.perSecond],
    ['local publishBatch', publish?.local.batched.perSecond],
    ['local push subscription', consume?.local.push.perSecond],
    ['local pull consumer', consume?.local.pull.perSecond],
  ];

  return list.flatMap(([name, perSecond]) =>
    perSecond === undefined
      ? []
      : [
          {
            name,
            perSecond,
            target: LOCAL_GOAL_PER_SECOND,
            met: perSecond >= LOCAL_GOAL_PER_SECOND,
          },
        ],
  );
}

/** Switchyard's ratio to the raw NATS client against the goal. */
export function natsGoals(results: BenchResults): NatsGoal[] {
  const { nats } = results;
  if (nats === undefined) return [];
  const list: [string, number][] = [
    ['nats publish, one by one', nats.oneByOne.ratio],
    ['nats publishBatch', nats.batched.ratio],
    ['nats push subscription', nats.consume.ratio],
  ];

  return list.map(([name, ratio]) => ({
    name,
    ratio,
    target: NATS_GOAL_RATIO,
    met: ratio >= NATS_GOAL_RATIO,
  }));
}
