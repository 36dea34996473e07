import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Subscription } from '../../../src/core/channel.ts';
import type { Codec } from '../../../src/core/codec.ts';
import {
  ConfigurationError,
  PermanentError,
  RetryLaterError,
} from '../../../src/core/errors.ts';
import type { Message } from '../../../src/core/message.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import {
  eventually,
  fastBackoff,
  gate,
  memoryClient,
  type RecordingLogger,
  recordingLogger,
} from './helpers.ts';

type Order = { orderId: string; total: number };

let client: Switchyard;
let logger: RecordingLogger;
const open: Subscription[] = [];

async function setup(): Promise<void> {
  logger = recordingLogger();
  ({ client } = await memoryClient({ logger }));
}

function orders() {
  return client.channel<Order>('orders', { groups: ['billing'] });
}

function track(subscription: Subscription): Subscription {
  open.push(subscription);
  return subscription;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await client?.close();
});

describe('an at-least-once subscription', () => {
  it('runs the handler and acknowledges after it returns', async () => {
    await setup();
    const channel = orders();
    const received: Message<Order>[] = [];
    await channel.publish({ orderId: 'o-1', total: 10 });

    const subscription = track(
      channel.subscribe(
        (m) => {
          received.push(m);
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.succeeded === 1);

    expect(received[0]?.data).toEqual({ orderId: 'o-1', total: 10 });
    expect(received[0]?.channel).toBe('orders');
    await eventually(async () => {
      const stats = await client.admin.stats('orders');
      return stats.consumers.billing?.lag === 0;
    });
  });

  it('retries a failing handler until it succeeds', async () => {
    await setup();
    const channel = orders();
    const attempts: number[] = [];
    await channel.publish({ orderId: 'o-2', total: 5 });

    const subscription = track(
      channel.subscribe(
        (_m, context) => {
          attempts.push(context.attempt);
          if (context.attempt < 3) throw new Error('ledger busy');
        },
        { group: 'billing', backoff: fastBackoff, waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.succeeded === 1);

    expect(attempts).toEqual([1, 2, 3]);
    expect(subscription.stats).toMatchObject({
      delivered: 3,
      failed: 2,
      retried: 2,
      succeeded: 1,
      deadLettered: 0,
    });
  });

  it('dead-letters after maxAttempts with the error and the attempt count', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'o-3', total: 1 });

    const subscription = track(
      channel.subscribe(
        () => {
          throw new TypeError('total is negative');
        },
        { group: 'billing', maxAttempts: 3, backoff: fastBackoff, waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.deadLettered === 1);
    const [dead] = await client.admin.deadLetters('orders');

    expect(dead?.reason).toContain('TypeError: total is negative');
    expect(dead?.reason).toContain('attempt 3 of 3');
    expect(dead?.group).toBe('billing');
    expect(logger.at('error').map((e) => e.message)).toContain(
      'message dead-lettered',
    );
  });

  it('dead-letters at once when the handler throws a PermanentError', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'o-4', total: 1 });

    const subscription = track(
      channel.subscribe(
        () => {
          throw new PermanentError('unknown customer');
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.deadLettered === 1);
    const [dead] = await client.admin.deadLetters('orders');

    expect(subscription.stats.delivered).toBe(1);
    expect(dead?.reason).toContain('PermanentError: unknown customer');
    expect(dead?.reason).toContain('attempt 1');
  });

  it('asks again after the delay of a RetryLaterError, not counting a failure', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'o-5', total: 1 });

    const subscription = track(
      channel.subscribe(
        (_m, context) => {
          if (context.attempt === 1) throw new RetryLaterError(1);
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.succeeded === 1);

    expect(subscription.stats.retried).toBe(1);
    expect(subscription.stats.failed).toBe(0);
  });

  it('dead-letters data the codec cannot decode and keeps going', async () => {
    await setup();
    const broken: Codec<unknown> = {
      name: 'broken',
      contentType: 'application/json',
      encode: () => new TextEncoder().encode('{"orderId": '),
      decode: () => undefined,
    };
    const producer = client.channel('orders', {
      codec: broken,
      groups: ['billing'],
    });
    await producer.publish('anything');
    await orders().publish({ orderId: 'o-6', total: 2 });
    const received: string[] = [];

    const subscription = track(
      orders().subscribe(
        (m) => {
          received.push(m.data.orderId);
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.succeeded === 1);
    const [dead] = await client.admin.deadLetters('orders');

    expect(received).toEqual(['o-6']);
    expect(dead?.reason).toMatch(/could not decode the data: DecodeError/);
  });

  it('dead-letters a message of an unknown content type, naming it', async () => {
    await setup();
    const csv: Codec<string> = {
      name: 'csv',
      contentType: 'text/csv',
      encode: (value) => new TextEncoder().encode(value),
      decode: (bytes) => new TextDecoder().decode(bytes),
    };
    await client
      .channel('orders', { codec: csv, groups: ['billing'] })
      .publish('o-7,3');

    const subscription = track(
      orders().subscribe(() => {}, { group: 'billing', waitMs: 20 }),
    );
    await eventually(() => subscription.stats.deadLettered === 1);
    const [dead] = await client.admin.deadLetters('orders');

    expect(dead?.reason).toContain('text/csv');
  });

  it('dead-letters data that fails the schema, naming the field', async () => {
    await setup();
    await orders().publish({ orderId: 'o-8', total: 'ten' as never });
    const schema = z.object({ orderId: z.string(), total: z.number() });

    const subscription = track(
      client
        .channel('orders', { schema })
        .subscribe(() => {}, { group: 'billing', waitMs: 20 }),
    );
    await eventually(() => subscription.stats.deadLettered === 1);
    const [dead] = await client.admin.deadLetters('orders');

    expect(dead?.reason).toContain('data.total');
  });

  it('runs no more handlers at once than its concurrency', async () => {
    await setup();
    const channel = orders();
    for (let i = 0; i < 8; i++) {
      await channel.publish({ orderId: `o-${i}`, total: i });
    }
    const release = gate();
    let running = 0;
    let highest = 0;

    const subscription = track(
      channel.subscribe(
        async () => {
          running++;
          highest = Math.max(highest, running);
          await release.promise;
          running--;
        },
        { group: 'billing', concurrency: 3, waitMs: 20 },
      ),
    );
    await eventually(() => running === 3);
    release.open();
    await eventually(() => subscription.stats.succeeded === 8);

    expect(highest).toBe(3);
    expect(subscription.stats.inFlight).toBe(0);
  });

  it('shares a group between two subscriptions, each message once', async () => {
    await setup();
    const channel = orders();
    const seen: string[] = [];
    const handler = (m: Message<Order>) => {
      seen.push(m.data.orderId);
    };
    track(channel.subscribe(handler, { group: 'billing', waitMs: 20 }));
    track(channel.subscribe(handler, { group: 'billing', waitMs: 20 }));

    for (let i = 0; i < 10; i++) {
      await channel.publish({ orderId: `o-${i}`, total: i });
    }
    await eventually(() => seen.length === 10);

    expect(new Set(seen).size).toBe(10);
  });

  it('delivers every message to each broadcast subscription', async () => {
    await setup();
    const channel = client.channel<Order>('orders');
    const first: string[] = [];
    const second: string[] = [];
    const a = track(
      channel.subscribe(
        (m) => {
          first.push(m.data.orderId);
        },
        { broadcast: true, waitMs: 20 },
      ),
    );
    const b = track(
      channel.subscribe(
        (m) => {
          second.push(m.data.orderId);
        },
        { broadcast: true, waitMs: 20 },
      ),
    );
    await eventually(async () => {
      const consumers = await client.admin.consumers('orders');
      return consumers.length === 2;
    });

    await channel.publish({ orderId: 'o-1', total: 1 });
    await eventually(() => first.length === 1 && second.length === 1);

    expect(a.group).not.toBe(b.group);
    expect(a.group).toMatch(/^broadcast-/);
  });
});

describe('closing an at-least-once subscription', () => {
  it('delivers again a message whose handler was still running at the deadline', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'o-9', total: 9 });
    const stuck = gate();
    const first = channel.subscribe(() => stuck.promise, {
      group: 'billing',
      leaseMs: 100,
      waitMs: 20,
    });
    await eventually(() => first.stats.inFlight === 1);

    await first.close({ timeoutMs: 10 });
    const attempts: number[] = [];
    const second = track(
      channel.subscribe(
        (_m, context) => {
          attempts.push(context.attempt);
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => second.stats.succeeded === 1);
    stuck.open();

    expect(first.stats.succeeded).toBe(0);
    expect(attempts).toEqual([2]);
  });
});

describe('an at-most-once subscription', () => {
  it('acknowledges before the handler runs and drops a failure', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'o-1', total: 1 });
    let inFlightDuringHandler: number | undefined;

    const subscription = track(
      channel.subscribe(
        async () => {
          const [billing] = await client.admin.consumers('orders');
          inFlightDuringHandler = billing?.inFlight;
          throw new Error('printer jammed');
        },
        { group: 'billing', guarantee: 'at-most-once', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.failed === 1);
    const stats = await client.admin.stats('orders');

    expect(inFlightDuringHandler).toBe(0);
    expect(stats.consumers.billing?.lag).toBe(0);
    expect(subscription.stats.delivered).toBe(1);
    expect(logger.at('error')[0]?.message).toMatch(/dropped/);
  });
});

describe('subscription options', () => {
  it('are checked when subscribing', async () => {
    await setup();
    const channel = orders();

    expect(() =>
      channel.subscribe(() => {}, { group: 'billing', concurrency: 0 }),
    ).toThrow(/subscribe\.concurrency must be an integer >= 1, got 0/);
    expect(() => channel.subscribe(() => {}, { group: 'Bad Name' })).toThrow(
      /group name/,
    );
    expect(() =>
      channel.subscribe(() => {}, {
        group: 'billing',
        guarantee: 'twice' as never,
      }),
    ).toThrow(ConfigurationError);
  });

  it('close the subscription when their signal aborts', async () => {
    await setup();
    const controller = new AbortController();
    const subscription = track(
      orders().subscribe(() => {}, {
        group: 'billing',
        signal: controller.signal,
        waitMs: 20,
      }),
    );

    controller.abort();
    await subscription.close();

    expect(logger.at('info').map((e) => e.message)).toContain(
      'subscription closed',
    );
  });
});

describe('logging', () => {
  it('never writes message data at info or above', async () => {
    await setup();
    const channel = orders();
    await channel.publish({ orderId: 'secret-order', total: 1 });

    const subscription = track(
      channel.subscribe(
        () => {
          throw new PermanentError('no');
        },
        { group: 'billing', waitMs: 20 },
      ),
    );
    await eventually(() => subscription.stats.deadLettered === 1);
    await subscription.close();

    const loud = logger.entries.filter((e) => e.level !== 'debug');
    expect(JSON.stringify(loud)).not.toContain('secret-order');
  });
});
