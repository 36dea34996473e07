/**
 * Handlers that misbehave, on real transports through the public API: one
 * that throws and then recovers, one that hangs past its lease, and a
 * poison message that fails every time. Each case names the guarantee it
 * runs under and checks that nothing was lost, that duplicates appear only
 * where that guarantee allows them, and what the dead letters hold.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/core/errors.ts';
import {
  createGate,
  createRecorder,
  sleep,
  times,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import {
  type Completion,
  faultTargets,
  observeCompletions,
  observeSettles,
  type Settle,
  selectedTargets,
  useFaultScope,
} from './providers.ts';

/** The data of the cases. */
interface Order {
  n: number;
  poison?: boolean;
}

const targets = faultTargets();

describe.each(selectedTargets(targets))('handler faults on $name', (target) => {
  const { timing } = target;
  const { scope, until, drained } = useFaultScope<unknown>(target);

  it(
    'at-least-once: a handler that throws is retried with backoff, then succeeds; the message is acknowledged and nothing is dead-lettered',
    async () => {
      const settles: Settle[] = [];
      const client = await scope.client({
        wrap: (provider) => observeSettles(provider, settles),
      });
      const name = uniqueName('orders');
      const channel = client.channel<Order>(name, { groups: ['billing'] });
      const recorder = createRecorder<Order>((_, context) => {
        if (context.attempt < 3) {
          throw new Error(`payment service down on attempt ${context.attempt}`);
        }
      });

      const { id } = await channel.publish({ n: 1 });
      const subscription = channel.subscribe(recorder.handler, {
        group: 'billing',
        guarantee: 'at-least-once',
        backoff: { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' },
      });
      await until(
        () => expect(subscription.stats.succeeded).toBe(1),
        'the third attempt succeeding',
      );
      await drained(client, name);

      expect(recorder.runs.map((run) => [run.message.id, run.attempt])).toEqual(
        [
          [id, 1],
          [id, 2],
          [id, 3],
        ],
      );
      // The backoff of each failed attempt, as asked of the transport:
      // 100 ms after the first, twice that after the second.
      expect(settles).toEqual([
        { messageId: id, attempt: 1, kind: 'nak', delayMs: 100 },
        { messageId: id, attempt: 2, kind: 'nak', delayMs: 200 },
        { messageId: id, attempt: 3, kind: 'ack' },
      ]);
      expect(subscription.stats).toMatchObject({
        failed: 2,
        retried: 2,
        deadLettered: 0,
      });
      expect(await client.admin.deadLetters(name)).toEqual([]);
    },
    timing.caseMs,
  );

  it(
    'at-least-once: a handler that hangs past its lease sees the message delivered again and handled; the late run acknowledges too, a duplicate the guarantee allows',
    async () => {
      const client = await scope.client();
      const name = uniqueName('orders');
      const channel = client.channel<Order>(name, { groups: ['billing'] });
      const hung = createGate();
      const finished: string[] = [];
      const recorder = createRecorder<Order>(async (_, context) => {
        if (context.attempt === 1) await hung.opened;
        finished.push(`attempt ${context.attempt}`);
      });

      const { id } = await channel.publish({ n: 1 });
      const subscription = channel.subscribe(recorder.handler, {
        group: 'billing',
        guarantee: 'at-least-once',
        leaseMs: timing.leaseMs,
        concurrency: 2,
      });
      await until(
        () => expect(finished).toEqual(['attempt 2']),
        'the redelivery handled while the first run hangs',
      );
      hung.open();
      await until(
        () => expect(finished).toEqual(['attempt 2', 'attempt 1']),
        'the hung run finishing',
      );
      await drained(client, name);
      await sleep(timing.quietMs);

      expect(recorder.runs.map((run) => [run.message.id, run.attempt])).toEqual(
        [
          [id, 1],
          [id, 2],
        ],
      );
      expect(subscription.stats).toMatchObject({
        succeeded: 2,
        failed: 0,
        deadLettered: 0,
      });
      expect(await client.admin.deadLetters(name)).toEqual([]);
    },
    timing.caseMs,
  );

  it(
    'exactly-once: a handler that hangs past its lease sees the message run again; the record is completed once, with the second run result, and the hung run late result is refused and dropped, its delivery left unsettled',
    async () => {
      const completions: Completion[] = [];
      const settles: Settle[] = [];
      const client = await scope.client({
        wrap: (provider) =>
          observeCompletions(observeSettles(provider, settles), completions),
      });
      const name = uniqueName('orders');
      const channel = client.channel<Order>(name, { groups: ['billing'] });
      const hung = createGate();
      const recorder = createRecorder<Order>(async (_, context) => {
        if (context.attempt === 1) {
          await hung.opened;
          return { charged: 'by the hung run' };
        }
        return { charged: 'by the second run' };
      });

      const { id } = await channel.publish({ n: 1 });
      const subscription = channel.subscribe(recorder.handler, {
        group: 'billing',
        guarantee: 'exactly-once',
        leaseMs: timing.leaseMs,
        concurrency: 2,
      });
      const key = `billing#${id}`;
      await until(
        async () => expect((await scope.record(key))?.status).toBe('COMPLETED'),
        'the second run completing the record',
      );
      hung.open();
      await until(
        () => expect(completions).toHaveLength(2),
        'the hung run trying to complete',
      );
      await drained(client, name);
      await sleep(timing.quietMs);

      // The second run comes once the record's lease lapsed too, which
      // may take one more delivery than the transport's lease.
      const attempts = recorder.runs.map((run) => run.attempt);
      expect(attempts).toHaveLength(2);
      expect(attempts[0]).toBe(1);
      expect(attempts[1]).toBeGreaterThanOrEqual(2);
      const [second, late] = completions;
      expect(second).toMatchObject({
        id: key,
        data: '{"charged":"by the second run"}',
      });
      expect(second?.refused).toBeUndefined();
      // The hung run no longer holds the record: its result is not written.
      expect(late).toMatchObject({
        id: key,
        data: '{"charged":"by the hung run"}',
        refused: 'ConflictError',
      });
      expect(late?.owner).not.toBe(second?.owner);
      expect(await scope.record(key)).toMatchObject({
        status: 'COMPLETED',
        data: '{"charged":"by the second run"}',
      });
      // The hung run does not acknowledge for the run that completed the
      // record: only that run's delivery is acknowledged.
      expect(settles.filter((settle) => settle.attempt === 1)).toEqual([]);
      expect(settles.filter((settle) => settle.kind === 'ack')).toEqual([
        { messageId: id, attempt: attempts[1], kind: 'ack' },
      ]);
      expect(subscription.stats.deadLettered).toBe(0);
      expect(await client.admin.deadLetters(name)).toEqual([]);
    },
    timing.caseMs,
  );

  it(
    'at-least-once: a poison message is dead-lettered after maxAttempts with the error and the attempt count, while the messages published with it are all handled',
    async () => {
      const client = await scope.client();
      const name = uniqueName('orders');
      const channel = client.channel<Order>(name, { groups: ['billing'] });
      const recorder = createRecorder<Order>(({ data }) => {
        if (data.poison) throw new Error(`card of order ${data.n} declined`);
      });

      const batch = [
        { data: { n: 0, poison: true } },
        ...times(4, (i) => ({ data: { n: i + 1 } })),
      ];
      const results = await channel.publishBatch(batch);
      const ids = results.map((result) => result.id);
      const subscription = channel.subscribe(recorder.handler, {
        group: 'billing',
        guarantee: 'at-least-once',
        maxAttempts: 3,
        backoff: { initialDelayMs: 20, maxDelayMs: 100 },
      });
      const [letter] = await until(async () => {
        const letters = await client.admin.deadLetters(name);
        expect(letters).toHaveLength(1);
        return letters;
      }, 'the poison message dead-lettered');
      await drained(client, name);

      const poisonRuns = recorder.runs.filter((run) => run.message.data.poison);
      const handled = recorder.runs.filter((run) => !run.message.data.poison);
      expect(poisonRuns.map((run) => run.attempt)).toEqual([1, 2, 3]);
      expect(new Set(handled.map((run) => run.message.id))).toEqual(
        new Set(ids.slice(1)),
      );
      expect(letter).toMatchObject({
        group: 'billing',
        attempts: 3,
        message: { id: ids[0] },
      });
      expect(letter?.reason).toBe(
        'handler failed on attempt 3 of 3: Error: card of order 0 declined',
      );
      expect(subscription.stats.deadLettered).toBe(1);
    },
    timing.caseMs,
  );

  it(
    'at-least-once: a PermanentError dead-letters the message at once, and the next message is handled',
    async () => {
      const client = await scope.client();
      const name = uniqueName('orders');
      const channel = client.channel<Order>(name, { groups: ['billing'] });
      const recorder = createRecorder<Order>(({ data }) => {
        if (data.poison) {
          throw new PermanentError(`order ${data.n} names no customer`);
        }
      });

      const refused = await channel.publish({ n: 7, poison: true });
      const good = await channel.publish({ n: 8 });
      channel.subscribe(recorder.handler, {
        group: 'billing',
        guarantee: 'at-least-once',
        maxAttempts: 5,
      });
      const [letter] = await until(async () => {
        const letters = await client.admin.deadLetters(name);
        expect(letters).toHaveLength(1);
        return letters;
      }, 'the refused message dead-lettered');
      await drained(client, name);

      expect(recorder.runs.map((run) => [run.message.id, run.attempt])).toEqual(
        [
          [refused.id, 1],
          [good.id, 1],
        ],
      );
      expect(letter).toMatchObject({
        group: 'billing',
        attempts: 1,
        message: { id: refused.id },
        reason:
          'handler failed permanently on attempt 1: PermanentError: order 7 names no customer',
      });
    },
    timing.caseMs,
  );
});
