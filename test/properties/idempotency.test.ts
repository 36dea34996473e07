import fc from 'fast-check';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
} from 'vitest';
import { ConflictError } from '../../src/core/errors.ts';
import type {
  BeginOutcome,
  IdempotencyStore,
  Provider,
} from '../../src/core/provider.ts';
import { embeddedProviders } from './providers.ts';

const TTL_MS = 3_600_000;
const START = Date.parse('2025-03-01T12:00:00.000Z');
const IDS = ['order-1', 'order-2'] as const;
const OWNERS = ['worker-a', 'worker-b', 'worker-c'] as const;

/** What the model knows of one record. */
type ModelRecord =
  | { status: 'in-progress'; owner: string; until: number }
  | { status: 'completed'; data: string | undefined };

interface Model {
  now: number;
  records: Map<string, ModelRecord>;
  /** Successful completes, by record. */
  completions: Map<string, number>;
}

interface Real {
  store: IdempotencyStore;
}

type IdempotencyCommand = fc.AsyncCommand<Model, Real>;

const id = fc.constantFrom(...IDS);
const owner = fc.constantFrom(...OWNERS);
const leaseMs = fc.integer({ min: 1, max: 2_000 });
const data = fc.option(fc.string(), { nil: undefined });

const commands = fc.commands(
  [
    fc
      .tuple(id, owner, leaseMs)
      .map(([i, o, lease]) => new BeginCommand(i, o, lease)),
    fc
      .tuple(id, owner, data)
      .map(([i, o, value]) => new CompleteCommand(i, o, value)),
    fc
      .tuple(id, owner, leaseMs)
      .map(([i, o, lease]) => new ExtendCommand(i, o, lease)),
    fc.tuple(id, owner).map(([i, o]) => new ReleaseCommand(i, o)),
    fc.integer({ min: 1, max: 2_500 }).map((ms) => new AdvanceCommand(ms)),
  ],
  { maxCommands: 40 },
);

/** One owner's step in a race. */
type Step =
  | { op: 'begin' | 'extend'; ms: number }
  | { op: 'complete' | 'release' }
  | { op: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constantFrom('begin' as const, 'extend' as const),
    ms: leaseMs,
  }),
  fc.record({ op: fc.constantFrom('complete' as const, 'release' as const) }),
  fc.record({ op: fc.constant('advance' as const), ms: leaseMs }),
);

const programs = fc.array(fc.array(step, { minLength: 1, maxLength: 6 }), {
  minLength: 2,
  maxLength: OWNERS.length,
});

const providers = embeddedProviders('idempotency');

describe.each(providers)(
  'idempotency records of the $name provider',
  ({ open }) => {
    let provider: Provider;
    let remove: () => Promise<void>;
    let tables = 0;

    const openTable = (): Promise<IdempotencyStore> => {
      tables += 1;
      return provider.idempotency!.open(`handled-${tables}`);
    };

    beforeAll(async () => {
      ({ provider, remove } = await open());
    });

    afterAll(async () => {
      await provider.close();
      await remove();
    });

    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(START);
    });

    afterEach(() => {
      vi.useRealTimers();
    });

    it('follows the lease model under any sequence of calls', async () => {
      await fc.assert(
        fc.asyncProperty(commands, async (sequence) => {
          vi.setSystemTime(START);
          const store = await openTable();
          const model: Model = {
            now: START,
            records: new Map(),
            completions: new Map(),
          };

          await fc.asyncModelRun(() => ({ model, real: { store } }), sequence);

          for (const count of model.completions.values()) {
            expect(count).toBeLessThanOrEqual(1);
          }
        }),
        { numRuns: 400 },
      );
    });

    it('lets one owner at most complete a record that owners race for', async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), programs, async (s, owners) => {
          vi.setSystemTime(START);
          const store = await openTable();
          const race: Race = { completions: [], completed: undefined };

          const done = Promise.all(
            owners.map((steps, index) =>
              runOwner(s, store, race, OWNERS[index]!, steps),
            ),
          );
          await s.waitFor(done);

          expect(race.completions.length).toBeLessThanOrEqual(1);
          const winner = race.completions[0];
          const record = await store.get('order-1');
          const outcome = await store.begin('order-1', {
            owner: 'late-worker',
            leaseMs: 1_000,
            ttlMs: TTL_MS,
          });
          if (winner === undefined) {
            expect(record?.status).not.toBe('COMPLETED');
            expect(outcome.status).not.toBe('completed');
          } else {
            expect(record).toMatchObject({ status: 'COMPLETED', data: winner });
            expect(outcome).toEqual({ status: 'completed', data: winner });
          }
        }),
        { numRuns: 400 },
      );
    });
  },
);

class BeginCommand implements IdempotencyCommand {
  readonly id: string;
  readonly owner: string;
  readonly leaseMs: number;

  constructor(id: string, owner: string, leaseMs: number) {
    this.id = id;
    this.owner = owner;
    this.leaseMs = leaseMs;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const outcome = await real.store.begin(this.id, {
      owner: this.owner,
      leaseMs: this.leaseMs,
      ttlMs: TTL_MS,
    });

    const record = model.records.get(this.id);
    if (record?.status === 'completed') {
      expect(outcome).toEqual(completedOutcome(record.data));
    } else if (record !== undefined && record.until > model.now) {
      expect(outcome).toEqual({ status: 'in-progress', until: record.until });
    } else {
      expect(outcome).toEqual({ status: 'acquired' });
      model.records.set(this.id, {
        status: 'in-progress',
        owner: this.owner,
        until: model.now + this.leaseMs,
      });
    }
  }

  toString(): string {
    return `begin(${this.id}, ${this.owner}, ${this.leaseMs} ms)`;
  }
}

class CompleteCommand implements IdempotencyCommand {
  readonly id: string;
  readonly owner: string;
  readonly data: string | undefined;

  constructor(id: string, owner: string, data: string | undefined) {
    this.id = id;
    this.owner = owner;
    this.data = data;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const held = holds(model, this.id, this.owner);

    const outcome = await settle(
      real.store.complete(this.id, {
        owner: this.owner,
        ttlMs: TTL_MS,
        ...(this.data !== undefined && { data: this.data }),
      }),
    );

    expect(outcome).toBe(held ? 'ok' : 'conflict');
    if (held) {
      model.records.set(this.id, { status: 'completed', data: this.data });
      model.completions.set(this.id, (model.completions.get(this.id) ?? 0) + 1);
    }
    await expectStored(model, real, this.id);
  }

  toString(): string {
    return `complete(${this.id}, ${this.owner}, ${JSON.stringify(this.data)})`;
  }
}

class ExtendCommand implements IdempotencyCommand {
  readonly id: string;
  readonly owner: string;
  readonly leaseMs: number;

  constructor(id: string, owner: string, leaseMs: number) {
    this.id = id;
    this.owner = owner;
    this.leaseMs = leaseMs;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    const held = holds(model, this.id, this.owner);

    const outcome = await settle(
      real.store.extend(this.id, { owner: this.owner, leaseMs: this.leaseMs }),
    );

    expect(outcome).toBe(held ? 'ok' : 'conflict');
    if (held) {
      model.records.set(this.id, {
        status: 'in-progress',
        owner: this.owner,
        until: model.now + this.leaseMs,
      });
    }
    await expectStored(model, real, this.id);
  }

  toString(): string {
    return `extend(${this.id}, ${this.owner}, ${this.leaseMs} ms)`;
  }
}

class ReleaseCommand implements IdempotencyCommand {
  readonly id: string;
  readonly owner: string;

  constructor(id: string, owner: string) {
    this.id = id;
    this.owner = owner;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    await real.store.release(this.id, { owner: this.owner });

    if (holds(model, this.id, this.owner)) model.records.delete(this.id);
    await expectStored(model, real, this.id);
  }

  toString(): string {
    return `release(${this.id}, ${this.owner})`;
  }
}

class AdvanceCommand implements IdempotencyCommand {
  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  check(): boolean {
    return true;
  }

  async run(model: Model): Promise<void> {
    model.now += this.ms;
    vi.setSystemTime(model.now);
  }

  toString(): string {
    return `advance(${this.ms} ms)`;
  }
}

/**
 * Whether `owner` may complete, extend or release the record: it is in
 * progress under that owner, with its lease lapsed or not, since nobody
 * else acquired it meanwhile.
 */
function holds(model: Model, id: string, owner: string): boolean {
  const record = model.records.get(id);
  return record?.status === 'in-progress' && record.owner === owner;
}

async function expectStored(
  model: Model,
  real: Real,
  id: string,
): Promise<void> {
  const expected = model.records.get(id);
  const stored = await real.store.get(id);

  if (expected === undefined) {
    expect(stored).toBeUndefined();
  } else if (expected.status === 'completed') {
    expect(stored?.status).toBe('COMPLETED');
    expect(stored?.data).toBe(expected.data);
  } else {
    expect(stored).toMatchObject({
      status: 'INPROGRESS',
      owner: expected.owner,
      inProgressExpiration: expected.until,
    });
  }
}

/** What the owners of a race saw. */
interface Race {
  /** The data of each complete that succeeded. */
  completions: string[];
  /** The data of the record once a complete succeeded. */
  completed: { data: string } | undefined;
}

/** Runs one owner's steps, each call resolving when the scheduler says. */
async function runOwner(
  s: fc.Scheduler,
  store: IdempotencyStore,
  race: Race,
  owner: string,
  steps: readonly Step[],
): Promise<void> {
  for (const [index, next] of steps.entries()) {
    const label = `${owner} ${next.op}`;
    if (next.op === 'advance') {
      await s.schedule(Promise.resolve(), label);
      vi.setSystemTime(Date.now() + next.ms);
    } else if (next.op === 'begin') {
      const settled = race.completed;
      const outcome = await s.schedule(
        store.begin('order-1', { owner, leaseMs: next.ms, ttlMs: TTL_MS }),
        label,
      );
      if (settled !== undefined) {
        expect(outcome).toEqual(completedOutcome(settled.data));
      }
    } else if (next.op === 'complete') {
      const value = `${owner} step ${index}`;
      const outcome = await s.schedule(
        settle(
          store.complete('order-1', { owner, data: value, ttlMs: TTL_MS }),
        ),
        label,
      );
      if (outcome === 'ok') {
        race.completions.push(value);
        race.completed ??= { data: value };
      }
    } else if (next.op === 'extend') {
      await s.schedule(
        settle(store.extend('order-1', { owner, leaseMs: next.ms })),
        label,
      );
    } else {
      await s.schedule(store.release('order-1', { owner }), label);
    }
  }
}

function completedOutcome(data: string | undefined): BeginOutcome {
  return data === undefined
    ? { status: 'completed' }
    : { status: 'completed', data };
}

/** 'ok', or 'conflict' for a ConflictError; any other error is thrown. */
async function settle(operation: Promise<void>): Promise<'ok' | 'conflict'> {
  try {
    await operation;
    return 'ok';
  } catch (error) {
    if (error instanceof ConflictError) return 'conflict';
    throw error;
  }
}
