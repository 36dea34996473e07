import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/testkit/helpers.ts';
import {
  down,
  message,
  OutboxFixture,
  ScriptedTransport,
} from './outbox-fixtures.ts';

const fixture = new OutboxFixture();
afterEach(() => fixture.release());

/** A promise to hold sends with, and the function that lets them go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('hold', () => {
  it('pauses relaying while publishing goes on, until released', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport);
    const release = outbox.hold();

    await outbox.publish('orders', [message('orders', 0)]);
    const drainedWhileHeld = await outbox.drained({ timeoutMs: 200 });
    const statsWhileHeld = outbox.stats();
    release();
    const drainedAfter = await outbox.drained({ timeoutMs: 5_000 });

    expect(drainedWhileHeld).toBe(false);
    expect(statsWhileHeld).toMatchObject({ depth: 1, held: true });
    expect(drainedAfter).toBe(true);
    expect(transport.accepted).toEqual(['orders-none-0']);
  });

  it('nests: relaying resumes when the last hold is released', async () => {
    const transport = new ScriptedTransport();
    const outbox = await fixture.openWith(transport);
    const outer = outbox.hold();
    const inner = outbox.hold();
    await outbox.publish('orders', [message('orders', 0)]);

    inner();
    inner();
    const drainedWithOuter = await outbox.drained({ timeoutMs: 200 });
    outer();

    expect(drainedWithOuter).toBe(false);
    expect(await outbox.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(outbox.stats().held).toBe(false);
  });

  it('lets a send under way finish', async () => {
    const transport = new ScriptedTransport();
    const held = gate();
    transport.gate = held.promise;
    const outbox = await fixture.openWith(transport);
    await outbox.publish('orders', [message('orders', 0)]);
    await eventually(() => transport.calls.length === 1);

    const release = outbox.hold();
    held.open();

    expect(await outbox.drained({ timeoutMs: 5_000 })).toBe(true);
    release();
  });
});

describe('drained', () => {
  it('gives up with false after its timeout while the transport is down', async () => {
    const transport = new ScriptedTransport();
    transport.answer = () => down();
    const outbox = await fixture.openWith(transport);
    await outbox.publish('orders', [message('orders', 0)]);

    expect(await outbox.drained({ timeoutMs: 100 })).toBe(false);
  });

  it('gives up with false when its signal aborts', async () => {
    const transport = new ScriptedTransport();
    transport.answer = () => down();
    const outbox = await fixture.openWith(transport);
    await outbox.publish('orders', [message('orders', 0)]);
    const controller = new AbortController();

    const waiting = outbox.drained({ signal: controller.signal });
    controller.abort();

    expect(await waiting).toBe(false);
  });

  it('resolves true once the transport is back and everything went', async () => {
    const transport = new ScriptedTransport();
    let up = false;
    transport.answer = () => (up ? 'accept' : down());
    const outbox = await fixture.openWith(transport);
    await outbox.publish(
      'orders',
      Array.from({ length: 10 }, (_, i) => message('orders', i, `k${i % 3}`)),
    );
    await eventually(() => outbox.stats().retried > 0);

    up = true;

    expect(await outbox.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(transport.accepted).toHaveLength(10);
  });
});

describe('close', () => {
  it('relays what waits before it closes', async () => {
    const transport = new ScriptedTransport();
    transport.delayMs = 5;
    const outbox = await fixture.openWith(transport);
    const published = outbox.publish(
      'orders',
      Array.from({ length: 100 }, (_, i) => message('orders', i, 'k')),
    );

    await outbox.close({ timeoutMs: 10_000 });

    expect((await published).every((o) => o.ok)).toBe(true);
    expect(transport.accepted).toHaveLength(100);
  });

  it('keeps what the transport did not take, and the next open relays it in order', async () => {
    const path = await fixture.path();
    const broken = new ScriptedTransport();
    broken.answer = () => down();
    const first = fixture.open({ path, send: broken.send });
    const messages = Array.from({ length: 20 }, (_, i) =>
      message('orders', i, `k${i % 2}`),
    );
    await first.publish('orders', messages);
    await first.close({ timeoutMs: 100 });

    const working = new ScriptedTransport();
    working.expect(messages);
    const second = fixture.open({ path, send: working.send });
    const depthAtOpen = second.stats().depth;

    expect(await second.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(depthAtOpen).toBe(20);
    expect(working.violations).toEqual([]);
    expect(working.acceptedByKey.get('orders/k0')).toEqual(
      messages.filter((m) => m.orderingKey === 'k0').map((m) => m.id),
    );
    expect(working.accepted).toHaveLength(20);
  });

  it('of a held outbox leaves everything for the next open', async () => {
    const path = await fixture.path();
    const transport = new ScriptedTransport();
    const first = fixture.open({ path, send: transport.send });
    first.hold();
    await first.publish('orders', [message('orders', 0)]);

    await first.close({ timeoutMs: 5_000 });
    const second = fixture.open({ path, send: transport.send });

    expect(transport.calls).toEqual([]);
    expect(await second.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(transport.accepted).toEqual(['orders-none-0']);
  });
});

describe('two relays on one outbox file', () => {
  it('never send the same row twice, nor at the same time', async () => {
    const path = await fixture.path();
    const transport = new ScriptedTransport();
    transport.delayMs = 2;
    const one = fixture.open({ path, send: transport.send, batchSize: 10 });
    const two = fixture.open({ path, send: transport.send, batchSize: 10 });
    const messages = [
      ...Array.from({ length: 150 }, (_, i) => message('orders', i)),
      ...Array.from({ length: 150 }, (_, i) =>
        message('orders', i, `k${i % 5}`),
      ),
    ];
    transport.expect(messages);

    for (let i = 0; i < messages.length; i += 10) {
      const outbox = (i / 10) % 2 === 0 ? one : two;
      await outbox.publish('orders', messages.slice(i, i + 10));
    }
    await one.drained({ timeoutMs: 20_000 });

    const ids = transport.calls.flatMap((call) => call.ids);
    expect(transport.violations).toEqual([]);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(one.stats().relayed).toBeGreaterThan(0);
    expect(two.stats().relayed).toBeGreaterThan(0);
  });

  it('send again what a relay that stopped had claimed, once its lease lapsed, with the same ids', async () => {
    const path = await fixture.path();
    const stuck = new ScriptedTransport();
    stuck.gate = new Promise(() => {});
    const first = fixture.open({ path, send: stuck.send, leaseMs: 1_000 });
    const messages = [0, 1, 2].map((i) => message('orders', i, 'k'));
    await first.publish('orders', messages);
    await eventually(() => stuck.calls.length > 0);
    await first.close({ timeoutMs: 0 });

    const working = new ScriptedTransport();
    const second = fixture.open({ path, send: working.send, leaseMs: 1_000 });
    const drainedEarly = await second.drained({ timeoutMs: 200 });

    expect(drainedEarly).toBe(false);
    expect(working.calls).toEqual([]);
    expect(await second.drained({ timeoutMs: 10_000 })).toBe(true);
    expect(working.accepted).toEqual(messages.map((m) => m.id));
    expect(stuck.calls[0]!.ids).toEqual(['orders-k-0']);
  });

  it('renew their claims while a send takes longer than the lease', async () => {
    const path = await fixture.path();
    const slow = new ScriptedTransport();
    const held = gate();
    slow.gate = held.promise;
    const other = new ScriptedTransport();
    const first = fixture.open({ path, send: slow.send, leaseMs: 300 });
    await first.publish('orders', [message('orders', 0)]);
    await eventually(() => slow.calls.length === 1);
    const second = fixture.open({ path, send: other.send, leaseMs: 300 });

    const drainedByOther = await second.drained({ timeoutMs: 1_000 });
    held.open();

    expect(drainedByOther).toBe(false);
    expect(other.calls).toEqual([]);
    expect(await first.drained({ timeoutMs: 5_000 })).toBe(true);
    expect(slow.accepted).toEqual(['orders-none-0']);
  });
});
