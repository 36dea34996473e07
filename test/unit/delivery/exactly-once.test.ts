import { afterEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../../src/core/channel.ts';
import { createSwitchyard } from '../../../src/core/client.ts';
import {
  ConfigurationError,
  TransportUnavailableError,
} from '../../../src/core/errors.ts';
import type { IdempotencyStore, Provider } from '../../../src/core/provider.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { eventually, fastBackoff, memoryClient } from './helpers.ts';

type Block = { hash: string };

let client: Switchyard;
let provider: Provider;
const open: Subscription[] = [];

async function setup(): Promise<IdempotencyStore> {
  ({ client, provider } = await memoryClient({ dedupWindowMs: 0 }));
  return provider.idempotency!.open('switchyard-idempotency');
}

function blocks() {
  return client.channel<Block>('blocks', { groups: ['indexer'] });
}

function exactlyOnce(
  handler: Parameters<ReturnType<typeof blocks>['subscribe']>[0],
  options: { leaseMs?: number } = {},
): Subscription {
  const subscription = blocks().subscribe(handler, {
    group: 'indexer',
    guarantee: 'exactly-once',
    backoff: fastBackoff,
    waitMs: 20,
    ...options,
  });
  open.push(subscription);
  return subscription;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await client?.close();
});

describe('an exactly-once subscription', () => {
  it('runs the handler once for a message published twice', async () => {
    const store = await setup();
    const runs: string[] = [];
    await blocks().publish({ hash: 'a1' }, { id: 'evt-1' });
    await blocks().publish({ hash: 'a1' }, { id: 'evt-1' });

    const subscription = exactlyOnce((m) => {
      runs.push(m.data.hash);
      return { indexed: m.data.hash };
    });
    await eventually(
      () => subscription.stats.succeeded + subscription.stats.duplicates === 2,
    );
    const record = await store.get('indexer#evt-1');

    expect(runs).toEqual(['a1']);
    expect(subscription.stats.duplicates).toBe(1);
    expect(record?.status).toBe('COMPLETED');
    expect(JSON.parse(record?.data ?? 'null')).toEqual({ indexed: 'a1' });
  });

  it('releases the record when the handler fails, so the retry runs', async () => {
    const store = await setup();
    const attempts: number[] = [];
    await blocks().publish({ hash: 'b2' }, { id: 'evt-2' });

    const subscription = exactlyOnce((_m, context) => {
      attempts.push(context.attempt);
      if (context.attempt === 1) throw new Error('index locked');
    });
    await eventually(() => subscription.stats.succeeded === 1);

    expect(attempts).toEqual([1, 2]);
    expect((await store.get('indexer#evt-2'))?.status).toBe('COMPLETED');
  });

  it('waits for a record another owner holds until its lease lapses', async () => {
    const store = await setup();
    await store.begin('indexer#evt-3', {
      owner: 'crashed-worker',
      leaseMs: 150,
      ttlMs: 60_000,
    });
    const runs: number[] = [];
    await blocks().publish({ hash: 'c3' }, { id: 'evt-3' });

    const subscription = exactlyOnce((_m, context) => {
      runs.push(context.attempt);
    });
    await eventually(() => subscription.stats.succeeded === 1);

    expect(runs).toHaveLength(1);
    expect(runs[0]).toBeGreaterThan(1);
  });

  it('extends the record lease with the delivery lease', async () => {
    const store = await setup();
    await blocks().publish({ hash: 'd4' }, { id: 'evt-4' });
    let before: number | undefined;
    let after: number | undefined;

    const subscription = exactlyOnce(
      async (_m, context) => {
        before = (await store.get('indexer#evt-4'))?.inProgressExpiration;
        await context.extendLease(600_000);
        after = (await store.get('indexer#evt-4'))?.inProgressExpiration;
      },
      { leaseMs: 1_000 },
    );
    await eventually(() => subscription.stats.succeeded === 1);

    expect(before).toBeDefined();
    expect(after).toBeGreaterThan((before ?? 0) + 100_000);
  });

  it('retries completing the record while it holds the lease, so the handler runs once', async () => {
    const store = await setup();
    let refusals = 2;
    const flaky: IdempotencyStore = Object.create(store);
    flaky.complete = async (id, options) => {
      if (refusals-- > 0) {
        throw new TransportUnavailableError('the table is unreachable');
      }
      return store.complete(id, options);
    };
    provider.idempotency!.open = async () => flaky;
    const runs: number[] = [];
    await blocks().publish({ hash: 'f6' }, { id: 'evt-6' });

    const subscription = exactlyOnce(
      (_m, context) => {
        runs.push(context.attempt);
      },
      { leaseMs: 10_000 },
    );
    await eventually(() => subscription.stats.succeeded === 1);

    expect(runs).toEqual([1]);
    expect(refusals).toBe(-1);
    expect((await store.get('indexer#evt-6'))?.status).toBe('COMPLETED');
  });

  it('keeps records in the table the options name', async () => {
    await setup();
    const store = await provider.idempotency!.open('router-dedup');
    await blocks().publish({ hash: 'e5' }, { id: 'evt-5' });

    const subscription = blocks().subscribe(() => 'done', {
      group: 'indexer',
      guarantee: 'exactly-once',
      idempotency: { table: 'router-dedup' },
      waitMs: 20,
    });
    open.push(subscription);
    await eventually(() => subscription.stats.succeeded === 1);

    expect((await store.get('indexer#evt-5'))?.data).toBe('"done"');
  });

  it('is refused at subscribe when no provider offers idempotency', async () => {
    await setup();
    const { idempotency: _none, ...withoutIdempotency } = provider;
    const bare = createSwitchyard({
      provider: withoutIdempotency as Provider,
    });

    const subscribe = () =>
      bare
        .channel('blocks')
        .subscribe(() => {}, { group: 'indexer', guarantee: 'exactly-once' });

    expect(subscribe).toThrow(ConfigurationError);
    expect(subscribe).toThrow(/does not offer idempotency/);
  });
});
