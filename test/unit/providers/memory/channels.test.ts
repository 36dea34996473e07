import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../../../../src/core/errors.ts';
import type { ChannelTransport } from '../../../../src/core/provider.ts';
import { createMemoryProvider } from '../../../../src/providers/memory/index.ts';
import {
  channelsOf,
  eventually,
  groupSpec,
  namespaceFixture,
  text,
  wireMessage,
} from './fixtures.ts';

const fixture = namespaceFixture();
let channels: ChannelTransport;

beforeEach(async () => {
  channels = channelsOf(await fixture.provider());
  await channels.ensure({ name: 'orders', ordered: false, groups: ['g'] });
});
afterEach(() => fixture.cleanup());

const publish = (...bodies: string[]) =>
  channels.publish(
    'orders',
    bodies.map((body) => wireMessage('orders', body)),
  );

describe('memory channel leases', () => {
  it('delivers a message again with the next attempt once its lease runs out', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));
    await publish('one');

    const [first] = await consumer.fetch(1, { waitMs: 1000 });
    const [second] = await consumer.fetch(1, { waitMs: 5000 });

    expect(first?.attempt).toBe(1);
    expect(second?.attempt).toBe(2);
    expect(second?.message.id).toBe(first?.message.id);
  });

  it('ignores a stale ack so the newer delivery stays in flight', async () => {
    const hasty = await channels.consume(groupSpec('orders', 'g', 50));
    const patient = await channels.consume(groupSpec('orders', 'g', 60_000));
    await publish('one');
    const [stale] = await hasty.fetch(1, { waitMs: 1000 });
    const [current] = await patient.fetch(1, { waitMs: 5000 });

    await stale!.ack();

    expect(await channels.stats('orders')).toMatchObject({ inFlight: 1 });
    await current!.ack();
    expect(await channels.stats('orders')).toMatchObject({
      inFlight: 0,
      consumers: { g: { lag: 0, inFlight: 0 } },
    });
  });

  it('refuses to extend a lease that passed to another delivery', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));
    await publish('one');
    const [stale] = await consumer.fetch(1, { waitMs: 1000 });
    await consumer.fetch(1, { waitMs: 5000 });

    const extension = stale!.extend(1000);

    await expect(extension).rejects.toBeInstanceOf(ConflictError);
  });

  it('counts an ack that comes after the lease ran out if nobody took the message', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g', 50));
    await publish('one');
    const [late] = await consumer.fetch(1, { waitMs: 1000 });
    await eventually(async () => {
      const [info] = await channels.consumers('orders');
      return info?.inFlight === 0 ? info : undefined;
    });

    await late!.ack();

    expect(await consumer.fetch(1, { waitMs: 0 })).toEqual([]);
  });

  it('delivers a nak-ed message again after its delay with the next attempt', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g', 60_000));
    await publish('one');
    const [first] = await consumer.fetch(1, { waitMs: 1000 });

    await first!.nak(100);
    const [again] = await consumer.fetch(1, { waitMs: 5000 });

    expect(again?.attempt).toBe(2);
  });

  it('dead-letters with the attempt count and replays with a fresh one', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));
    await publish('one');
    const [delivery] = await consumer.fetch(1, { waitMs: 1000 });

    await delivery!.deadLetter('cannot parse');
    const letters = await channels.deadLetters('orders');
    const replayed = await channels.replayDeadLetters('orders');
    const [again] = await consumer.fetch(1, { waitMs: 1000 });

    expect(letters).toMatchObject([
      { group: 'g', reason: 'cannot parse', attempts: 1 },
    ]);
    expect(replayed).toBe(1);
    expect(again?.attempt).toBe(1);
    expect(await channels.deadLetters('orders')).toEqual([]);
  });
});

describe('memory channel delivery', () => {
  it('gives a group only messages published after it was created', async () => {
    await publish('before');
    const consumer = await channels.consume(groupSpec('orders', 'late'));
    await publish('after');

    const deliveries = await consumer.fetch(10, { waitMs: 1000 });

    expect(deliveries.map((d) => text(d.message))).toEqual(['after']);
  });

  it('wakes a waiting fetch as soon as a message is published', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));

    const fetching = consumer.fetch(10, { waitMs: 15_000 });
    await publish('one');

    expect((await fetching).map((d) => text(d.message))).toEqual(['one']);
  });

  it('ends a waiting fetch with nothing when its signal aborts', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));
    const controller = new AbortController();

    const fetching = consumer.fetch(10, {
      waitMs: 15_000,
      signal: controller.signal,
    });
    controller.abort();

    expect(await fetching).toEqual([]);
  });

  it('holds back a message while an earlier one of its key is unacknowledged', async () => {
    await channels.ensure({ name: 'ledger', ordered: true, groups: ['g'] });
    const consumer = await channels.consume(groupSpec('ledger', 'g', 60_000));
    await channels.publish('ledger', [
      wireMessage('ledger', 'a1', { orderingKey: 'a' }),
      wireMessage('ledger', 'a2', { orderingKey: 'a' }),
      wireMessage('ledger', 'b1', { orderingKey: 'b' }),
    ]);

    const first = await consumer.fetch(10, { waitMs: 1000 });
    const blocked = await consumer.fetch(10, { waitMs: 0 });
    await first[0]!.ack();
    const next = await consumer.fetch(10, { waitMs: 1000 });

    expect(first.map((d) => text(d.message))).toEqual(['a1', 'b1']);
    expect(blocked).toEqual([]);
    expect(next.map((d) => text(d.message))).toEqual(['a2']);
  });

  it('gives every broadcast consumer every message until it closes', async () => {
    const a = await channels.consume({
      ...groupSpec('orders', 'inst-a'),
      mode: 'broadcast',
    });
    const b = await channels.consume({
      ...groupSpec('orders', 'inst-b'),
      mode: 'broadcast',
    });
    await publish('one');

    const toA = await a.fetch(10, { waitMs: 1000 });
    const toB = await b.fetch(10, { waitMs: 1000 });
    await b.close();

    expect(toA.map((d) => text(d.message))).toEqual(['one']);
    expect(toB.map((d) => text(d.message))).toEqual(['one']);
    const names = (await channels.consumers('orders')).map((c) => c.name);
    expect(names.sort()).toEqual(['g', 'inst-a']);
  });

  it('drops a re-publish of an id within the dedup window', async () => {
    const message = wireMessage('orders', 'one');

    const [first] = await channels.publish('orders', [message]);
    const [again] = await channels.publish('orders', [message]);

    expect(first).toEqual({ ok: true, channelSequence: 1, duplicate: false });
    expect(again).toEqual({ ok: true, channelSequence: 1, duplicate: true });
    expect(await channels.stats('orders')).toMatchObject({ depth: 1 });
  });

  it('refuses a body over the payload limit without failing the rest', async () => {
    const small = await createMemoryProvider({
      namespace: fixture.namespace,
      maxPayloadBytes: 3,
    });

    const outcomes = await channelsOf(small).publish('orders', [
      wireMessage('orders', 'toolong'),
      wireMessage('orders', 'ok'),
    ]);

    expect(outcomes[0]).toMatchObject({ ok: false });
    expect(outcomes[0]?.ok === false && outcomes[0].error).toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(outcomes[1]).toMatchObject({ ok: true, duplicate: false });
    await small.close();
  });
});

describe('memory channel administration', () => {
  it('purges only what every group acknowledged, up to a sequence', async () => {
    await channels.ensure({ name: 'orders', ordered: false, groups: ['h'] });
    const g = await channels.consume(groupSpec('orders', 'g', 60_000));
    const h = await channels.consume(groupSpec('orders', 'h', 60_000));
    await publish('one', 'two', 'three');
    for (const delivery of await g.fetch(10, { waitMs: 1000 })) {
      await delivery.ack();
    }
    const [hFirst, hSecond] = await h.fetch(2, { waitMs: 1000 });
    await hFirst!.ack();
    await hSecond!.ack();

    const upToOne = await channels.purge('orders', {
      acknowledged: true,
      upToSequence: 1,
    });
    const acknowledged = await channels.purge('orders', { acknowledged: true });

    expect(upToOne).toBe(1);
    expect(acknowledged).toBe(1);
    expect(await channels.stats('orders')).toMatchObject({ depth: 1 });
    expect(await channels.purge('orders')).toBe(1);
  });

  it('reports the ack floor and what is pending and in flight per group', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g', 60_000));
    await publish('one', 'two', 'three');
    const [first] = await consumer.fetch(2, { waitMs: 1000 });

    await first!.ack();
    const [info] = await channels.consumers('orders');

    expect(info).toMatchObject({
      name: 'g',
      mode: 'group',
      pending: 1,
      inFlight: 1,
      ackFloor: 1,
    });
  });

  it('raises NotFoundError for a channel never ensured', async () => {
    const attempt = channels.publish('missing', [wireMessage('missing', 'x')]);

    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    await expect(attempt).rejects.toMatchObject({ kind: 'channel' });
  });

  it('raises NotFoundError when deleting a consumer that does not exist', async () => {
    const attempt = channels.deleteConsumer('orders', 'nobody');

    await expect(attempt).rejects.toMatchObject({ kind: 'consumer' });
  });

  it('ends waiting fetches when the channel is deleted, and ignores deleting it again', async () => {
    const consumer = await channels.consume(groupSpec('orders', 'g'));
    const fetching = consumer.fetch(10, { waitMs: 15_000 });

    await channels.delete('orders');
    await channels.delete('orders');

    expect(await fetching).toEqual([]);
    expect(await channels.exists('orders')).toBe(false);
    await expect(consumer.fetch(1, { waitMs: 0 })).rejects.toMatchObject({
      kind: 'channel',
    });
  });
});
