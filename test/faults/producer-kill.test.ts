/**
 * A producer process killed with SIGKILL while it publishes, without an
 * outbox: a publish resolves once the transport has stored the message
 * (confirm `transport`, the default), so every id the child printed as
 * confirmed must reach the worker group, whatever was under way when it
 * died. Publishes under way at the kill may or may not arrive.
 */
import { describe, expect, test } from 'vitest';
import { eventually } from '../../src/testkit/helpers.ts';
import { PROVIDERS, type ProviderName } from './support/config.ts';
import { missing } from './support/ledger.ts';
import { FaultFixture } from './support/targets.ts';

/** Confirmed publishes before the kill; moto takes tens a second. */
const CONFIRMED_BEFORE_KILL: Record<ProviderName, number> = {
  local: 400,
  nats: 400,
  aws: 120,
};

/** The longest the group may take to receive what was confirmed. */
const DRAIN_TIMEOUT_MS = 60_000;

const faults = new FaultFixture();

describe.each(PROVIDERS)('a producer killed with SIGKILL on %s', (name) => {
  test('loses none of the messages it had confirmed, and nothing is dead-lettered', async () => {
    const target = await faults.target(name);
    const producer = await faults.producer({
      config: target.config,
      channel: 'events',
      groups: ['audit'],
      idPrefix: 'event-',
      lanes: 8,
      periodMs: 0,
      retryMs: 100,
    });
    await eventually(
      () => producer.confirmed().length >= CONFIRMED_BEFORE_KILL[name],
      {
        timeoutMs: 60_000,
        message: `the producer confirming ${CONFIRMED_BEFORE_KILL[name]} publishes`,
      },
    );

    await producer.kill();

    const confirmed = producer.confirmed();
    const client = await faults.client(target.config);
    const events = client.channel<{ n: number }>('events', {
      groups: ['audit'],
    });
    const consumer = await events.consumer({ group: 'audit' });
    const received = new Set<string>();
    await eventually(
      async () => {
        for (const delivery of await consumer.fetch(100, { waitMs: 200 })) {
          received.add(delivery.message.id);
          await delivery.ack();
        }
        const lost = missing(confirmed, received);
        if (lost.length > 0) {
          throw new Error(
            `${lost.length} of ${confirmed.length} confirmed messages not received yet, such as ${lost.slice(0, 5).join(', ')}`,
          );
        }
      },
      { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 0 },
    );

    expect(missing(confirmed, received)).toEqual([]);
    expect(producer.failures()).toEqual([]);
    expect(await client.admin.deadLetters('events')).toEqual([]);
  });
});
