/**
 * Two members of one group (two clients, as two processes would be)
 * racing for a message whose lease expired while its first holder still
 * worked on it. Leases are short; on aws they are whole seconds.
 *
 * What each guarantee allows:
 *
 * - at-least-once: every message is handled successfully at least once;
 *   one whose lease lapsed may be handled again, by either member. The
 *   stale holder's late acknowledgement may be ignored by the transport
 *   (local: its lease token is stale) or take the message off (nats and
 *   SQS acknowledge by message, not by delivery): both are allowed, since
 *   the stale holder did handle it. It must never take off another
 *   message, fail, or make the current holder's settling fail.
 * - exactly-once: the handler may run again once the lease lapsed, but
 *   only one run completes the record, and its result is the one stored;
 *   a run that lost its lease does not acknowledge for the run that holds
 *   the record now, so that a failure of the latter is retried.
 */
import { describe, expect, it } from 'vitest';
import type { PullConsumer, SubscribeOptions } from '../../src/core/channel.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import {
  createGate,
  type Gate,
  sleep,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import {
  type Completion,
  faultTargets,
  observeCompletions,
  selectedTargets,
  useFaultScope,
} from './providers.ts';
import type { ProviderName } from './support/config.ts';

/** The data of the cases. */
interface Order {
  n: number;
}

/** One run of the handler, on one member. */
interface Run {
  member: string;
  id: string;
  attempt: number;
}

/**
 * What each transport does with the late acknowledgement of a stale
 * holder, both of which at-least-once allows.
 */
const STALE_ACK: Record<ProviderName, 'ignored' | 'takes the message'> = {
  local: 'ignored',
  nats: 'takes the message',
  // moto deletes by any receipt handle the message was ever given; SQS
  // documents that it may.
  aws: 'takes the message',
};

/**
 * The lease of the pull cases, within which the steps after the race
 * must be done: longer than the provider's short lease, since several
 * round trips to the server follow the race.
 */
const RACE_LEASE_MS: Record<ProviderName, number> = {
  local: 1_000,
  nats: 1_000,
  aws: 2_000,
};

const targets = faultTargets();

describe.each(selectedTargets(targets))('lease races on $name', (target) => {
  const { timing, name: provider } = target;
  const { scope, until, drained } = useFaultScope<unknown>(target);

  /** Fetches from `consumer` until one delivery comes. */
  const fetchOne = (consumer: PullConsumer<Order>, what: string) =>
    until(async () => {
      const [delivery] = await consumer.fetch(1, { waitMs: 250 });
      return delivery ?? false;
    }, what);

  /**
   * Two pull consumers of group billing on two clients, and the first
   * delivery of a message published on it: `stale` took it, and its lease
   * lapsed so that `current` took it too. The steps that follow must fit
   * in one lease, which is long enough for that on every transport.
   */
  async function lapsedDelivery() {
    const [first, second] = [await scope.client(), await scope.client()];
    const name = uniqueName('orders');
    const channel = first.channel<Order>(name, { groups: ['billing'] });
    const options = { group: 'billing', leaseMs: RACE_LEASE_MS[provider] };
    const stale = await channel.consumer(options);
    const current = await second.channel<Order>(name).consumer(options);

    const { id } = await channel.publish({ n: 1 });
    const held = await fetchOne(stale, 'the first delivery');
    const again = await fetchOne(current, 'the delivery after the lease');

    return { client: first, channel, name, id, current, held, again };
  }

  it(
    'at-least-once: after a lease lapsed, the stale holder late ack resolves, takes off no other message, and leaves the current holder able to settle',
    async () => {
      const race = await lapsedDelivery();
      const other = await race.channel.publish({ n: 2 });
      const next = await fetchOne(race.current, 'the other message');

      await race.held.ack();
      await next.retry();
      await race.again.ack();
      const back = await fetchOne(race.current, 'the retried message');
      await back.ack();
      await drained(race.client, race.name);
      const after = await race.current.fetch(10, { waitMs: timing.quietMs });

      expect([race.held.message.id, race.held.attempt]).toEqual([race.id, 1]);
      expect(race.again.message.id).toBe(race.id);
      expect(race.again.attempt).toBeGreaterThanOrEqual(2);
      expect([next.message.id, back.message.id]).toEqual([other.id, other.id]);
      expect(back.attempt).toBeGreaterThanOrEqual(2);
      expect(after).toEqual([]);
      expect(await race.client.admin.deadLetters(race.name)).toEqual([]);
    },
    timing.caseMs,
  );

  it(
    `at-least-once: when the current holder fails after the stale holder late ack, its retry resolves and the message is ${STALE_ACK[provider] === 'ignored' ? 'delivered again, the stale ack being ignored' : 'done, the stale holder having handled it'}`,
    async () => {
      const race = await lapsedDelivery();

      await race.held.ack();
      await race.again.retry();
      const later = await race.current.fetch(1, {
        waitMs: timing.quietMs + RACE_LEASE_MS[provider],
      });
      for (const delivery of later) await delivery.ack();
      await drained(race.client, race.name);

      expect(race.held.attempt).toBe(1);
      expect(race.again.message.id).toBe(race.id);
      if (STALE_ACK[provider] === 'ignored') {
        expect(later.map((d) => d.message.id)).toEqual([race.id]);
        expect(later[0]?.attempt).toBeGreaterThan(race.again.attempt);
      } else {
        expect(later).toEqual([]);
      }
      expect(await race.client.admin.deadLetters(race.name)).toEqual([]);
    },
    timing.caseMs,
  );

  /**
   * Two members of group billing under exactly-once on one message: the
   * first run of each member waits at a gate of its own, and every run is
   * recorded.
   */
  async function exactlyOnceRace(
    behaviour: (run: Run) => Promise<unknown>,
  ): Promise<{
    clients: Switchyard[];
    name: string;
    id: string;
    key: string;
    runs: Run[];
    completions: Completion[];
  }> {
    const completions: Completion[] = [];
    const wrap = {
      wrap: (p: Parameters<typeof observeCompletions>[0]) =>
        observeCompletions(p, completions),
    };
    const clients = [await scope.client(wrap), await scope.client(wrap)];
    const name = uniqueName('orders');
    const channel = clients[0]!.channel<Order>(name, { groups: ['billing'] });
    const runs: Run[] = [];
    const options: SubscribeOptions = {
      group: 'billing',
      guarantee: 'exactly-once',
      leaseMs: timing.leaseMs,
      backoff: { initialDelayMs: 50, maxDelayMs: 200 },
    };

    const { id } = await channel.publish({ n: 1 });
    clients.forEach((client, index) => {
      const member = `member-${index + 1}`;
      client.channel<Order>(name).subscribe(async (message, context) => {
        const run = { member, id: message.id, attempt: context.attempt };
        runs.push(run);
        return behaviour(run);
      }, options);
    });

    return { clients, name, id, key: `billing#${id}`, runs, completions };
  }

  /** The gate of a run: the first run hangs, the others go on. */
  const gated = (gates: { hung: Gate; taker: Gate }) => async (run: Run) => {
    await (run.attempt === 1 ? gates.hung : gates.taker).opened;
    return { by: run.member, attempt: run.attempt };
  };

  it(
    'exactly-once: of two members racing for a message after its lease lapsed, only the one holding the record completes it, and its result is stored once',
    async () => {
      const gates = { hung: createGate(), taker: createGate() };
      const race = await exactlyOnceRace(gated(gates));

      await until(
        () => expect(race.runs).toHaveLength(2),
        'the other member taking over the lapsed message',
      );
      const [hung, taker] = race.runs;
      gates.hung.open();
      await until(
        () => expect(race.completions).toHaveLength(1),
        'the stale holder trying to complete',
      );
      const whileHeld = await scope.record(race.key);
      gates.taker.open();
      await until(
        async () =>
          expect((await scope.record(race.key))?.status).toBe('COMPLETED'),
        'the holder completing the record',
      );
      await drained(race.clients[0]!, race.name);
      await sleep(timing.quietMs);

      expect(hung?.member).not.toBe(taker?.member);
      expect(race.runs).toHaveLength(2);
      const [refused, completed] = race.completions;
      expect(refused).toMatchObject({
        id: race.key,
        data: JSON.stringify({ by: hung?.member, attempt: 1 }),
        refused: 'ConflictError',
      });
      expect(whileHeld).toMatchObject({ status: 'INPROGRESS' });
      expect(whileHeld?.owner).not.toBe(refused?.owner);
      expect(completed?.refused).toBeUndefined();
      const stored = JSON.stringify({
        by: taker?.member,
        attempt: taker?.attempt,
      });
      expect(completed?.data).toBe(stored);
      expect(await scope.record(race.key)).toMatchObject({
        status: 'COMPLETED',
        data: stored,
      });
      expect(await race.clients[0]!.admin.deadLetters(race.name)).toEqual([]);
    },
    timing.caseMs,
  );

  it(
    'exactly-once: when the member holding the record fails after the stale holder finished, the message is retried and its record completed once',
    async () => {
      const gates = { hung: createGate(), taker: createGate() };
      const hold = gated(gates);
      let failed = false;
      const race = await exactlyOnceRace(async (run) => {
        const result = await hold(run);
        if (run.attempt > 1 && !failed) {
          failed = true;
          throw new Error('ledger unavailable');
        }
        return result;
      });

      await until(
        () => expect(race.runs).toHaveLength(2),
        'the other member taking over the lapsed message',
      );
      gates.hung.open();
      await until(
        () => expect(race.completions).toHaveLength(1),
        'the stale holder trying to complete',
      );
      gates.taker.open();
      await until(
        async () =>
          expect((await scope.record(race.key))?.status).toBe('COMPLETED'),
        'a retry completing the record',
      );
      await drained(race.clients[0]!, race.name);
      await sleep(timing.quietMs);

      expect(race.runs.map((run) => run.id)).toEqual([
        race.id,
        race.id,
        race.id,
      ]);
      const accepted = race.completions.filter((c) => !c.refused);
      expect(accepted).toHaveLength(1);
      const last = race.runs[2];
      const stored = JSON.stringify({
        by: last?.member,
        attempt: last?.attempt,
      });
      expect(accepted[0]?.data).toBe(stored);
      expect(await scope.record(race.key)).toMatchObject({
        status: 'COMPLETED',
        data: stored,
      });
      expect(await race.clients[0]!.admin.deadLetters(race.name)).toEqual([]);
    },
    timing.caseMs,
  );
});
