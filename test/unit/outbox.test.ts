import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  ConfigurationError,
  NotFoundError,
  PayloadTooLargeError,
  TimeoutError,
  ValidationError,
} from '../../src/core/errors.ts';
import type { WireMessage } from '../../src/core/message.ts';
import { isPermanentRefusal, openOutbox } from '../../src/delivery/outbox.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { recordingLogger } from './delivery/helpers.ts';
import {
  down,
  message,
  OutboxFixture,
  ScriptedTransport,
} from './outbox-fixtures.ts';

const fixture = new OutboxFixture();
afterEach(() => fixture.release());

/** Publishes `count` messages on each key, interleaved, in order. */
function interleaved(
  channel: string,
  keys: readonly string[],
  count: number,
): WireMessage[] {
  return Array.from({ length: count }, (_, index) =>
    keys.map((key) => message(channel, index, key)),
  ).flat();
}

describe('publishing into the outbox', () => {
  it('resolves with an accepted outcome per message and relays them', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport);
    const messages = [message('orders', 0), message('orders', 1)];

    const outcomes = await outbox.publish('orders', messages);

    expect(outcomes).toEqual([
      { ok: true, duplicate: false },
      { ok: true, duplicate: false },
    ]);
    expect(await outbox.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(transport.accepted.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(outbox.stats()).toMatchObject({ depth: 0, relayed: 2 });
  });

  it('relays the message as published: id, body, attributes and key', async () => {
    const transport = new ScriptedTransport();
    const received: WireMessage[] = [];
    const outbox = fixture.open({
      path: await fixture.path(),
      send: async (channel, messages) => {
        received.push(...messages);
        return transport.send(channel, messages);
      },
    });
    const published = {
      ...message('orders', 7, 'customer-1'),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    };

    await outbox.publish('orders', [published]);
    await outbox.drained({ timeoutMs: 5_000 });

    expect(received).toEqual([published]);
  });

  it('resolves many concurrent publishes, each one in the file', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport);
    const release = outbox.hold();

    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        outbox.publish('orders', [message('orders', i)]),
      ),
    );

    expect(outcomes.flat().every((o) => o.ok)).toBe(true);
    expect(outbox.stats().depth).toBe(50);
    release();
    expect(await outbox.drained({ timeoutMs: 5_000 })).toBe(true);
  });

  it('hands at most batchSize messages to one send', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport, { batchSize: 7 });
    const release = outbox.hold();
    await outbox.publish(
      'orders',
      Array.from({ length: 30 }, (_, i) => message('orders', i)),
    );

    release();
    await outbox.drained({ timeoutMs: 5_000 });

    expect(Math.max(...transport.calls.map((c) => c.ids.length))).toBe(7);
    expect(transport.accepted).toHaveLength(30);
  });

  it('calls send at send time, so a new send target takes what is left', async () => {
    const first = new ScriptedTransport();
    const second = new ScriptedTransport();
    let current = first;
    const outbox = fixture.open({
      path: await fixture.path(),
      send: (channel, messages) => current.send(channel, messages),
    });
    await outbox.publish('orders', [message('orders', 0)]);
    await outbox.drained({ timeoutMs: 5_000 });
    const release = outbox.hold();
    await outbox.publish('orders', [message('orders', 1)]);

    current = second;
    release();
    await outbox.drained({ timeoutMs: 5_000 });

    expect(first.accepted).toEqual(['orders-none-0']);
    expect(second.accepted).toEqual(['orders-none-1']);
  });

  it('rejects a publish with a ClosedError once closed', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport);

    await outbox.close();

    await expect(
      outbox.publish('orders', [message('orders', 0)]),
    ).rejects.toBeInstanceOf(ClosedError);
    expect(() => outbox.stats()).toThrow(ClosedError);
  });
});

describe('the relay under failures', () => {
  it('keeps the order of each ordering key while sends fail at random', async () => {
    const transport = new ScriptedTransport();
    let draw = 0;
    transport.answer = () => {
      draw = (draw * 1103515245 + 12345) % 2 ** 31;
      if (draw % 10 < 3) return down();
      if (draw % 10 === 3) return new TimeoutError('no answer', 100);
      return 'accept';
    };
    const outbox = await fixture.openWith(transport, { batchSize: 5 });
    const keys = ['a', 'b', 'c'];
    const keyed = interleaved('orders', keys, 40);
    const unkeyed = Array.from({ length: 40 }, (_, i) => message('orders', i));
    transport.expect(keyed);

    for (const [index, entry] of keyed.entries()) {
      await outbox.publish('orders', [entry, unkeyed[index % 40]!]);
    }
    expect(await outbox.drained({ timeoutMs: 20_000 })).toBe(true);

    expect(transport.violations).toEqual([]);
    for (const key of keys) {
      const expected = keyed
        .filter((m) => m.orderingKey === key)
        .map((m) => m.id);
      expect(transport.acceptedByKey.get(`orders/${key}`)).toEqual(expected);
    }
    expect(outbox.stats().retried).toBeGreaterThan(0);
  });

  it('retries a transient failure until the transport takes the message', async () => {
    const transport = new ScriptedTransport();
    transport.answer = (_, attempt) => (attempt <= 3 ? down() : 'accept');
    const logger = recordingLogger();
    const outbox = await fixture.openWith(transport, { logger });

    await outbox.publish('orders', [message('orders', 0, 'k')]);
    await outbox.drained({ timeoutMs: 5_000 });

    expect(transport.attempts('orders-k-0')).toBe(4);
    expect(transport.accepted).toEqual(['orders-k-0']);
    expect(outbox.stats()).toMatchObject({
      retried: 3,
      lastError: {
        channel: 'orders',
        message: 'connection refused',
        code: 'TRANSPORT_UNAVAILABLE',
      },
    });
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('info').map((e) => e.message)).toContain(
      'outbox: relaying again',
    );
  });

  it('waits longer after each failure in a row, as the backoff says', async () => {
    const transport = new ScriptedTransport();
    const times: number[] = [];
    transport.answer = (_, attempt) => {
      times.push(Date.now());
      return attempt <= 4 ? down() : 'accept';
    };
    const outbox = await fixture.openWith(transport, {
      backoff: { initialDelayMs: 40, maxDelayMs: 160, jitter: 'none' },
    });

    await outbox.publish('orders', [message('orders', 0)]);
    await outbox.drained({ timeoutMs: 5_000 });

    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps).toHaveLength(4);
    // Timers fire at the earliest after their delay; allow for rounding.
    for (const [index, least] of [40, 80, 160, 160].entries()) {
      expect(gaps[index]).toBeGreaterThanOrEqual(least - 2);
    }
  });

  it('pauses only the failing channel', async () => {
    const transport = new ScriptedTransport();
    transport.answer = (m) => (m.channel === 'broken' ? down() : 'accept');
    const outbox = await fixture.openWith(transport);

    await outbox.publish('broken', [message('broken', 0)]);
    await outbox.publish(
      'orders',
      Array.from({ length: 20 }, (_, i) => message('orders', i, 'k')),
    );

    await eventually(() => transport.accepted.length === 20);
    expect(outbox.stats().channels).toEqual({
      broken: { depth: 1, oldestAgeMs: expect.any(Number), failed: 0 },
    });
  });

  it('moves a message the transport refuses for good to the failed messages, and its key goes on', async () => {
    const transport = new ScriptedTransport();
    const refusedId = 'orders-k-1';
    transport.refused.add(refusedId);
    transport.answer = (m) =>
      m.id === refusedId
        ? new PayloadTooLargeError(2_000_000, 1_048_576)
        : 'accept';
    const logger = recordingLogger();
    const outbox = await fixture.openWith(transport, { logger });
    const messages = [0, 1, 2].map((i) => message('orders', i, 'k'));
    transport.expect(messages);

    await outbox.publish('orders', messages);
    await outbox.drained({ timeoutMs: 5_000 });

    expect(transport.acceptedByKey.get('orders/k')).toEqual([
      'orders-k-0',
      'orders-k-2',
    ]);
    expect(transport.violations).toEqual([]);
    const failed = outbox.failed();
    expect(failed).toEqual([
      {
        message: messages[1],
        reason: 'payload is 2000000 bytes, over the limit of 1048576 bytes',
        code: 'PAYLOAD_TOO_LARGE',
        publishedAt: expect.any(Number),
        failedAt: expect.any(Number),
        attempts: 1,
      },
    ]);
    expect(outbox.stats()).toMatchObject({
      depth: 0,
      failed: 1,
      channels: { orders: { depth: 0, failed: 1 } },
    });
    expect(logger.at('error')).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          channel: 'orders',
          messageId: refusedId,
          code: 'PAYLOAD_TOO_LARGE',
        }),
      }),
    ]);
  });

  it('lists the failed messages of one channel, up to a limit', async () => {
    const transport = new ScriptedTransport();
    transport.answer = () => new ValidationError('bad attribute');
    const outbox = await fixture.openWith(transport);
    await outbox.publish('a', [message('a', 0), message('a', 1)]);
    await outbox.publish('b', [message('b', 0)]);
    await outbox.drained({ timeoutMs: 5_000 });

    const ofA = outbox.failed({ channel: 'a' });
    const one = outbox.failed({ limit: 1 });

    expect(ofA.map((f) => f.message.id)).toEqual(['a-none-0', 'a-none-1']);
    expect(one).toHaveLength(1);
    expect(() => outbox.failed({ limit: 0 })).toThrow(ConfigurationError);
  });

  it('counts a failing send (a thrown error) as a transient failure of each message', async () => {
    let calls = 0;
    const transport = new ScriptedTransport();
    const outbox = fixture.open({
      path: await fixture.path(),
      send: async (channel, messages) => {
        calls++;
        if (calls <= 2) throw new NotFoundError('channel', channel);
        return transport.send(channel, messages);
      },
    });

    await outbox.publish('orders', [
      message('orders', 0),
      message('orders', 1),
    ]);
    await outbox.drained({ timeoutMs: 5_000 });

    expect(transport.accepted).toHaveLength(2);
    expect(outbox.stats()).toMatchObject({ retried: 4, failed: 0 });
  });
});

describe('isPermanentRefusal', () => {
  it('says which errors can never succeed as they are', () => {
    expect(isPermanentRefusal(new ValidationError('bad'))).toBe(true);
    expect(isPermanentRefusal(new PayloadTooLargeError(2, 1))).toBe(true);
    expect(isPermanentRefusal(new ConfigurationError('bad'))).toBe(true);
    expect(isPermanentRefusal(down())).toBe(false);
    expect(isPermanentRefusal(new NotFoundError('channel', 'x'))).toBe(false);
    expect(isPermanentRefusal(new Error('socket hang up'))).toBe(false);
  });
});

describe('options', () => {
  it('are refused with a ConfigurationError naming the field', async () => {
    const path = await fixture.path();
    const send = new ScriptedTransport().send;

    expect(() => openOutbox({ path, send, batchSize: 0 })).toThrow(
      /outbox\.batchSize must be an integer >= 1, got 0/,
    );
    expect(() => openOutbox({ path: '', send })).toThrow(ConfigurationError);
    expect(() =>
      openOutbox({ path, send, backoff: { maxDelayMs: -1 } }),
    ).toThrow(/outbox\.backoff\.maxDelayMs/);
    expect(() =>
      openOutbox({ path, send, synchronous: 'off' as 'full' }),
    ).toThrow(/outbox\.synchronous/);
  });

  it('refuses a path that cannot be opened, naming it', async () => {
    const folder = await fixture.path();
    const send = new ScriptedTransport().send;
    const file = fixture.open({ path: folder, send });
    await file.close();

    expect(() => openOutbox({ path: `${folder}/inside.db`, send })).toThrow(
      ConfigurationError,
    );
  });
});
