import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NotFoundError, PayloadTooLargeError } from '../../src/core/errors.ts';
import type { WireMessage } from '../../src/core/message.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  TransportConsumer,
  TransportDelivery,
} from '../../src/core/provider.ts';
import { createNatsChannels } from '../../src/providers/nats/channels.ts';
import type { NatsContext } from '../../src/providers/nats/connection.ts';
import { expectError } from '../../src/testkit/helpers.ts';
import { bytes, closeNatsContext, openContext, text } from './fixtures.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

let server: NatsTestServer;
let context: NatsContext;
let channels: ChannelTransport;
const opened: TransportConsumer[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  context = await openContext(server);
  channels = createNatsChannels(context);
});

afterAll(async () => {
  await Promise.allSettled(opened.map((consumer) => consumer.close()));
  await closeNatsContext(context);
  await server.stop();
});

/** A channel name unique within the run. */
function channelName(): string {
  return `orders-${Math.random().toString(36).slice(2, 10)}`;
}

/** A wire message of `channel` with `id`. */
function wire(channel: string, id: string, data: unknown = { id }) {
  const message: WireMessage = {
    id,
    channel,
    body: bytes(JSON.stringify(data)),
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.parse('2026-01-02T03:04:05.678Z'),
    publisherId: 'tests',
    sequence: 1,
  };
  return message;
}

async function freshChannel(groups: string[] = []): Promise<string> {
  const name = channelName();
  await channels.ensure({ name, ordered: false, groups });
  return name;
}

async function open(
  channel: string,
  name: string,
  options: Partial<ConsumerSpec> = {},
): Promise<TransportConsumer> {
  const consumer = await channels.consume({
    channel,
    mode: 'group',
    name,
    leaseMs: 30_000,
    maxAttempts: 5,
    ...options,
  });
  opened.push(consumer);
  return consumer;
}

/** Fetches until `count` deliveries arrived. */
async function fetchAll(
  consumer: TransportConsumer,
  count: number,
): Promise<TransportDelivery[]> {
  const found: TransportDelivery[] = [];
  for (let round = 0; found.length < count && round < 20; round += 1) {
    found.push(
      ...(await consumer.fetch(count - found.length, { waitMs: 1000 })),
    );
  }
  return found;
}

async function publishIds(channel: string, ids: string[]) {
  return channels.publish(
    channel,
    ids.map((id) => wire(channel, id)),
  );
}

describe('nats channels', () => {
  test('a published message is fetched with its fields and acknowledged', async () => {
    const name = await freshChannel(['billing']);
    const consumer = await open(name, 'billing');
    const message = {
      ...wire(name, 'order-1'),
      attributes: { region: 'eu west' },
      orderingKey: 'customer-7',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };

    const [outcome] = await channels.publish(name, [message]);
    const [delivery] = await fetchAll(consumer, 1);
    await delivery?.ack();
    const after = await consumer.fetch(1, { waitMs: 200 });

    expect(outcome).toEqual({ ok: true, channelSequence: 1, duplicate: false });
    expect(delivery?.attempt).toBe(1);
    expect(delivery?.channelSequence).toBe(1);
    expect({ ...delivery?.message, body: undefined }).toEqual({
      ...message,
      body: undefined,
    });
    expect(text(delivery!.message.body)).toBe('{"id":"order-1"}');
    expect(after).toEqual([]);
  });

  test('a re-sent publish of one id is a duplicate the stream drops', async () => {
    const name = await freshChannel();

    const first = await publishIds(name, ['order-1', 'order-2']);
    const again = await publishIds(name, ['order-1']);
    const stats = await channels.stats(name);

    expect(first.map((o) => o.ok && o.duplicate)).toEqual([false, false]);
    expect(again).toEqual([{ ok: true, channelSequence: 1, duplicate: true }]);
    expect(stats.depth).toBe(2);
  });

  test('a group receives only messages published after it was created', async () => {
    const name = await freshChannel();

    await publishIds(name, ['early']);
    const consumer = await open(name, 'late-group');
    await publishIds(name, ['late']);
    const taken = await fetchAll(consumer, 1);
    const extra = await consumer.fetch(5, { waitMs: 200 });

    expect(taken.map((d) => d.message.id)).toEqual(['late']);
    expect(extra).toEqual([]);
  });

  test('two members of a group share its messages with no duplicates', async () => {
    const name = await freshChannel(['workers']);
    const first = await open(name, 'workers');
    const second = await open(name, 'workers');
    const ids = Array.from({ length: 10 }, (_, i) => `order-${i}`);

    await publishIds(name, ids);
    // Both members keep fetching, as running consumers do, until every
    // message has been handed to one of them.
    const a: TransportDelivery[] = [];
    const b: TransportDelivery[] = [];
    for (
      let round = 0;
      a.length + b.length < ids.length && round < 20;
      round++
    ) {
      a.push(...(await first.fetch(5, { waitMs: 500 })));
      b.push(...(await second.fetch(5, { waitMs: 500 })));
    }
    for (const delivery of [...a, ...b]) await delivery.ack();

    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect([...a, ...b].map((d) => d.message.id).sort()).toEqual(
      [...ids].sort(),
    );
  });

  test('a broadcast reaches every instance, and its consumer is deleted on close', async () => {
    const name = await freshChannel();
    const spec = { mode: 'broadcast' as const };
    const first = await open(name, 'broadcast-a', spec);
    const second = await open(name, 'broadcast-b', spec);

    await publishIds(name, ['news-1']);
    const seenA = await fetchAll(first, 1);
    const seenB = await fetchAll(second, 1);
    const listed = await channels.consumers(name);
    await first.close();
    const after = await channels.consumers(name);

    expect(seenA.map((d) => d.message.id)).toEqual(['news-1']);
    expect(seenB.map((d) => d.message.id)).toEqual(['news-1']);
    expect(listed.map((c) => [c.name, c.mode])).toEqual([
      ['broadcast-a', 'broadcast'],
      ['broadcast-b', 'broadcast'],
    ]);
    expect(after.map((c) => c.name)).toEqual(['broadcast-b']);
  });

  test('a broadcast consumer is created with the inactive threshold', async () => {
    const name = await freshChannel();

    await open(name, 'broadcast-c', { mode: 'broadcast' });
    const info = await context.jsm.consumers.info(name, 'broadcast-c');

    expect(info.config.inactive_threshold).toBe(
      context.options.broadcastInactiveMs * 1e6,
    );
    expect(info.config.durable_name).toBeUndefined();
  });

  test('a nak with a delay delivers the message again with the next attempt', async () => {
    const name = await freshChannel(['billing']);
    const consumer = await open(name, 'billing');

    await publishIds(name, ['order-1']);
    const [first] = await fetchAll(consumer, 1);
    await first?.nak(300);
    const [second] = await fetchAll(consumer, 1);

    expect(second?.message.id).toBe('order-1');
    expect(second?.attempt).toBe(2);
  });

  test('an extension longer than the lease keeps the message from another member', async () => {
    const name = await freshChannel(['billing']);
    const holder = await open(name, 'billing', { leaseMs: 500 });
    const rival = await open(name, 'billing', { leaseMs: 500 });

    await publishIds(name, ['order-1']);
    const [delivery] = await fetchAll(holder, 1);
    await delivery?.extend(2000);
    const stolen = await rival.fetch(1, { waitMs: 1500 });
    await delivery?.ack();

    expect(delivery?.message.id).toBe('order-1');
    expect(stolen).toEqual([]);
  });

  test('a dead letter is stored with its reason and is not delivered again', async () => {
    const name = await freshChannel(['billing']);
    const consumer = await open(name, 'billing', { leaseMs: 500 });

    await publishIds(name, ['order-1']);
    const [delivery] = await fetchAll(consumer, 1);
    await delivery?.deadLetter('rejected: no stock');
    const again = await consumer.fetch(1, { waitMs: 1000 });
    const letters = await channels.deadLetters(name);
    const stats = await channels.stats(name);

    expect(again).toEqual([]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      group: 'billing',
      reason: 'rejected: no stock',
      attempts: 1,
      message: { id: 'order-1', publisherId: 'tests' },
    });
    expect(stats.deadLettered).toBe(1);
  });

  test('a replayed dead letter goes back to its own group only', async () => {
    const name = await freshChannel(['audit', 'billing']);
    const audit = await open(name, 'audit');
    const billing = await open(name, 'billing');

    await publishIds(name, ['order-1']);
    for (const delivery of await fetchAll(audit, 1)) await delivery.ack();
    const [rejected] = await fetchAll(billing, 1);
    await rejected?.deadLetter('rejected');
    const replayed = await channels.replayDeadLetters(name);
    const [again] = await fetchAll(billing, 1);
    const auditAfter = await audit.fetch(5, { waitMs: 500 });
    const left = await channels.deadLetters(name);

    expect(replayed).toBe(1);
    expect(again?.message.id).toBe('order-1');
    expect(again?.attempt).toBe(1);
    expect(auditAfter).toEqual([]);
    expect(left).toEqual([]);
  });

  test('purging acknowledged messages keeps those a group has not acknowledged', async () => {
    const name = await freshChannel(['audit', 'billing']);
    const audit = await open(name, 'audit');
    const billing = await open(name, 'billing');

    await publishIds(name, ['order-1', 'order-2', 'order-3', 'order-4']);
    for (const delivery of await fetchAll(audit, 4)) await delivery.ack();
    const taken = await fetchAll(billing, 4);
    taken.sort((a, b) => a.channelSequence! - b.channelSequence!);
    for (const delivery of taken.slice(0, 2)) await delivery.ack();
    for (const delivery of taken.slice(2)) await delivery.nak(0);
    const removed = await channels.purge(name, { acknowledged: true });
    const kept = await fetchAll(billing, 2);

    expect(removed).toBe(2);
    expect(kept.map((d) => d.message.id).sort()).toEqual([
      'order-3',
      'order-4',
    ]);
  });

  test('purge without options removes every message', async () => {
    const name = await freshChannel(['billing']);

    await publishIds(name, ['order-1', 'order-2']);
    const removed = await channels.purge(name);
    const stats = await channels.stats(name);

    expect(removed).toBe(2);
    expect(stats.depth).toBe(0);
    expect(stats.consumers.billing).toEqual({ lag: 0, inFlight: 0 });
  });

  test('a message published through Switchyard is read by a plain JetStream consumer', async () => {
    const name = await freshChannel();
    await context.jsm.consumers.add(name, {
      durable_name: 'plain',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });

    await publishIds(name, ['order-1']);
    const plain = await context.js.consumers.get(name, 'plain');
    const msg = await plain.next({ expires: 5000 });
    msg?.ack();

    expect(msg?.subject).toBe(`${name}.msg`);
    expect(msg?.json()).toEqual({ id: 'order-1' });
    expect(msg?.headers?.get('Nats-Msg-Id')).toBe('order-1');
    expect(msg?.headers?.get('ce-id')).toBe('order-1');
    expect(msg?.headers?.get('ce-source')).toBe('/switchyard/tests');
    expect(msg?.headers?.get('content-type')).toBe('application/json');
  });

  test('a JSON message a plain JetStream client publishes is consumed with defaults', async () => {
    const name = await freshChannel(['billing']);
    const consumer = await open(name, 'billing');

    const ack = await context.js.publish(
      `${name}.anything`,
      JSON.stringify({ total: 12 }),
    );
    const [delivery] = await fetchAll(consumer, 1);
    await delivery?.ack();

    expect(delivery?.message).toMatchObject({
      id: String(ack.seq),
      channel: name,
      contentType: 'application/json',
      publisherId: 'nats',
      sequence: ack.seq,
      attributes: {},
    });
    expect(delivery?.message.publishedAt).toBeGreaterThan(0);
    expect(JSON.parse(text(delivery!.message.body))).toEqual({ total: 12 });
  });

  test('a message over the server max_payload is refused naming both sizes', async () => {
    const name = await freshChannel();
    const limit = context.nc.info!.max_payload;
    const message = { ...wire(name, 'big'), body: new Uint8Array(limit + 1) };

    const [outcome] = await channels.publish(name, [message]);

    expect(outcome?.ok).toBe(false);
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).limit).toBe(limit);
    expect(error.message).toContain(String(limit));
    expect(error.message).toContain(
      String((error as PayloadTooLargeError).size),
    );
  });

  test('a missing channel is a NotFoundError for consumers and publishes', async () => {
    const name = channelName();

    const consumeError = await expectError(
      () => open(name, 'billing'),
      NotFoundError,
    );
    const [outcome] = await publishIds(name, ['order-1']);

    expect(consumeError.kind).toBe('channel');
    expect(outcome?.ok).toBe(false);
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).kind).toBe('channel');
  });

  test('list names channels without their dead letters, and delete removes both streams', async () => {
    const name = await freshChannel();

    const listed = await channels.list();
    await channels.delete(name);
    const left = await channels.list();
    const exists = await channels.exists(name);

    expect(listed).toContain(name);
    expect(listed).not.toContain(`${name}-dlq`);
    expect(left).not.toContain(name);
    expect(exists).toBe(false);
  });

  test('a group keeps fetching, and nothing stored is lost, after the server restarts', async () => {
    const name = await freshChannel(['billing']);
    const consumer = await open(name, 'billing');

    await publishIds(name, ['before']);
    await server.restart();
    const taken = await fetchAll(consumer, 1);
    await taken[0]?.ack();
    await publishIds(name, ['after']);
    const later = await fetchAll(consumer, 1);

    expect(taken.map((d) => d.message.id)).toEqual(['before']);
    expect(later.map((d) => d.message.id)).toEqual(['after']);
  });

  test('a group of an ordered channel hands out one message at a time', async () => {
    const name = channelName();
    await channels.ensure({ name, ordered: true, groups: ['billing'] });
    const consumer = await open(name, 'billing');

    await publishIds(name, ['step-1', 'step-2']);
    const first = await consumer.fetch(10, { waitMs: 1000 });
    const held = await consumer.fetch(10, { waitMs: 300 });
    await first[0]?.ack();
    const second = await fetchAll(consumer, 1);

    expect(first.map((d) => d.message.id)).toEqual(['step-1']);
    expect(held).toEqual([]);
    expect(second.map((d) => d.message.id)).toEqual(['step-2']);
  });
});
