import { describe, expect, it } from 'vitest';
import type { Handler } from '../../../src/core/channel.ts';
import { jsonCodec } from '../../../src/core/codecs.ts';
import {
  CapabilityError,
  RetryLaterError,
  TransportUnavailableError,
} from '../../../src/core/errors.ts';
import type { TransportConsumer } from '../../../src/core/provider.ts';
import { createDecoder } from '../../../src/delivery/decode.ts';
import { subscribe } from '../../../src/delivery/subscription.ts';
import {
  fakeDelivery,
  fullCapabilities,
  jsonMessage,
  scriptedConsumer,
} from './fakes.ts';
import { eventually, fastBackoff, gate, recordingLogger } from './helpers.ts';

function start(
  consumer: TransportConsumer,
  handler: Handler<unknown>,
  options: Partial<Parameters<typeof subscribe>[0]['options']> = {},
  capabilities = fullCapabilities(),
) {
  const logger = recordingLogger();
  const subscription = subscribe({
    channel: 'fake-events',
    handler,
    options: { group: 'workers', waitMs: 20, ...options } as never,
    capabilities,
    decode: createDecoder(jsonCodec),
    logger,
    open: async () => consumer,
  });
  return { subscription, logger };
}

describe('the fetch loop', () => {
  it('dead-letters a delivery over maxAttempts without running the handler', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }), 6);
    let ran = false;

    const { subscription } = start(scriptedConsumer([[delivery]]), () => {
      ran = true;
    });
    await eventually(() => delivery.settlements.length === 1);
    await subscription.close();

    expect(ran).toBe(false);
    expect(delivery.settlements[0]).toMatchObject({ kind: 'deadLetter' });
    expect(JSON.stringify(delivery.settlements)).toContain(
      'delivered 6 times, over the limit of 5 attempts',
    );
  });

  it('returns a RetryLaterError delivery after exactly its delay', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));

    const { subscription } = start(scriptedConsumer([[delivery]]), () => {
      throw new RetryLaterError(7_500);
    });
    await eventually(() => delivery.settlements.length === 1);
    await subscription.close();

    expect(delivery.settlements).toEqual([{ kind: 'nak', delayMs: 7_500 }]);
  });

  it('returns a failed delivery after a backoff delay within its bounds', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }), 3);

    const { subscription } = start(
      scriptedConsumer([[delivery]]),
      () => {
        throw new Error('flaky');
      },
      { backoff: { initialDelayMs: 100, maxDelayMs: 1_000 } },
    );
    await eventually(() => delivery.settlements.length === 1);
    await subscription.close();
    const [settlement] = delivery.settlements;

    expect(settlement?.kind).toBe('nak');
    const delayMs = settlement?.kind === 'nak' ? settlement.delayMs : -1;
    expect(delayMs).toBeGreaterThanOrEqual(0);
    expect(delayMs).toBeLessThanOrEqual(400);
  });

  it('logs transport errors as warnings and keeps fetching', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));
    const consumer = scriptedConsumer([
      new TransportUnavailableError('broker restarting'),
      new TransportUnavailableError('broker restarting'),
      [delivery],
    ]);

    const { subscription, logger } = start(consumer, () => {}, {
      backoff: fastBackoff,
    });
    await eventually(() => subscription.stats.succeeded === 1);
    await subscription.close();

    const warnings = logger.at('warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.fields).toMatchObject({
      errorName: 'TransportUnavailableError',
      errorMessage: 'broker restarting',
    });
    expect(delivery.settlements).toEqual([{ kind: 'ack' }]);
  });

  it('retries opening the consumer while the transport is unavailable', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));
    let opens = 0;
    const logger = recordingLogger();

    const subscription = subscribe({
      channel: 'fake-events',
      handler: () => {},
      options: { group: 'workers', waitMs: 20, backoff: fastBackoff },
      capabilities: fullCapabilities(),
      decode: createDecoder(jsonCodec),
      logger,
      open: async () => {
        opens++;
        if (opens < 3) throw new TransportUnavailableError('no route');
        return scriptedConsumer([[delivery]]);
      },
    });
    await eventually(() => subscription.stats.succeeded === 1);
    await subscription.close();

    expect(opens).toBe(3);
    expect(logger.at('warn')).toHaveLength(2);
  });

  it('maps extendLease to the transport with the lease length by default', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));

    const { subscription } = start(
      scriptedConsumer([[delivery]]),
      async (_m, context) => {
        await context.extendLease();
        await context.extendLease(1_234);
      },
      { leaseMs: 60_000 },
    );
    await eventually(() => subscription.stats.succeeded === 1);
    await subscription.close();

    expect(delivery.settlements).toEqual([
      { kind: 'extend', leaseMs: 60_000 },
      { kind: 'extend', leaseMs: 1_234 },
      { kind: 'ack' },
    ]);
  });

  it('refuses extendLease on a provider without it', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));
    const capabilities = fullCapabilities();
    capabilities.unsupported.extendLease = 'leases are fixed';
    let refusal: unknown;

    const { subscription } = start(
      scriptedConsumer([[delivery]]),
      async (_m, context) => {
        refusal = await context.extendLease().catch((e) => e);
      },
      {},
      capabilities,
    );
    await eventually(() => subscription.stats.succeeded === 1);
    await subscription.close();

    expect(refusal).toBeInstanceOf(CapabilityError);
  });
});

describe('closing a subscription', () => {
  it('returns fetched deliveries that have not started at once', async () => {
    const release = gate();
    const first = fakeDelivery(jsonMessage({ n: 1 }));
    const second = fakeDelivery(jsonMessage({ n: 2 }));
    const third = fakeDelivery(jsonMessage({ n: 3 }));
    let started = 0;

    const { subscription } = start(
      scriptedConsumer([[first, second, third]]),
      async () => {
        started++;
        await release.promise;
      },
      { concurrency: 1, batchSize: 3 },
    );
    await eventually(() => started === 1);
    const closing = subscription.close();
    await eventually(() => second.settlements.length > 0);
    release.open();
    await closing;

    expect(first.settlements).toEqual([{ kind: 'ack' }]);
    expect(second.settlements).toEqual([{ kind: 'nak', delayMs: 0 }]);
    expect(third.settlements).toEqual([{ kind: 'nak', delayMs: 0 }]);
    expect(started).toBe(1);
  });

  it('aborts handlers still running at the deadline and settles nothing for them', async () => {
    const delivery = fakeDelivery(jsonMessage({ n: 1 }));
    const consumer = scriptedConsumer([[delivery]]);
    let aborted = false;
    let finishHandler = () => {};

    const { subscription, logger } = start(consumer, async (_m, context) => {
      context.signal.addEventListener('abort', () => {
        aborted = true;
      });
      await new Promise<void>((resolve) => {
        finishHandler = resolve;
      });
    });
    await eventually(() => subscription.stats.inFlight === 1);
    await subscription.close({ timeoutMs: 10 });
    finishHandler();
    await eventually(() => subscription.stats.inFlight === 0);

    expect(aborted).toBe(true);
    expect(delivery.settlements).toEqual([]);
    expect(consumer.closed).toBe(true);
    expect(logger.at('warn')[0]?.message).toMatch(/aborted/);
  });

  it('is idempotent', async () => {
    const consumer = scriptedConsumer([]);
    const { subscription } = start(consumer, () => {});

    await Promise.all([subscription.close(), subscription.close()]);
    await subscription.close();

    expect(consumer.closed).toBe(true);
  });
});
