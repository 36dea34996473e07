/**
 * The harness of the conformance suite: how a target is described, how a
 * case gets a fresh environment and its clients, and how everything it
 * opened is closed again, whether the case passed or not.
 */
import { it } from 'vitest';
import {
  type Capabilities,
  type Feature,
  supports,
} from '../core/capabilities.ts';
import type { Delivery, PullConsumer } from '../core/channel.ts';
import { createSwitchyard } from '../core/client.ts';
import type { Provider } from '../core/provider.ts';
import type { Switchyard } from '../core/switchyard.ts';
import {
  type EventuallyOptions,
  eventually,
  expectNothing,
  fetchUntil,
  within,
} from './helpers.ts';

/**
 * Time limits of a target. Networked emulators are slower than the
 * embedded providers; raise these for them rather than change a case.
 */
export interface ConformanceTimeouts {
  /** Longest a case may run, setup and teardown included. Default 30000. */
  caseMs?: number;
  /** How long a case waits for a condition to hold. Default 10000. */
  eventuallyMs?: number;
  /**
   * How long a case watches for something that must not happen (a
   * redelivery, an extra message) before it concludes it did not.
   * Default 500.
   */
  quietMs?: number;
  /**
   * Lease of the cases that let leases expire; the transport's smallest
   * visibility timeout if it is larger. Default 500.
   */
  leaseMs?: number;
  /** Timeout of requests and gathers that are expected to succeed. Default 2000. */
  requestMs?: number;
}

/** The time limits with every default applied. */
export type ResolvedTimeouts = Required<ConformanceTimeouts>;

/** An isolated backing store for one case. */
export interface ConformanceEnvironment {
  /**
   * A new client-side provider instance on the environment's backing
   * store. Two calls give two instances that see the same channels,
   * buckets and servers, as two processes of one deployment would.
   */
  provider(): Promise<Provider>;
  /**
   * Removes the backing store. Called after every client of the case has
   * been closed.
   */
  teardown(): Promise<void>;
}

/**
 * A provider under test: how to build an isolated environment for it.
 *
 * @example
 * runConformance({
 *   name: 'memory',
 *   async setup() {
 *     const namespace = `conformance-${randomUUID()}`;
 *     return {
 *       provider: async () => createMemoryProvider({ namespace }),
 *       teardown: async () => resetMemoryNamespace(namespace),
 *     };
 *   },
 * });
 */
export interface ConformanceTarget {
  /** Shown as the name of the suite. */
  name: string;
  /** Builds a fresh, isolated environment; called once per case. */
  setup(): Promise<ConformanceEnvironment>;
  timeouts?: ConformanceTimeouts;
}

/** Options of {@link Scope.client}. */
export interface ScopeClientOptions {
  /** Wraps the provider before the client uses it (fault injection). */
  wrap?: (provider: Provider) => Provider;
  instanceId?: string;
}

/** What a case body receives: its environment and its limits. */
export interface Scope {
  readonly capabilities: Capabilities;
  readonly timeouts: ResolvedTimeouts;
  /**
   * A new client on a new provider instance of the case's environment,
   * closed when the case ends.
   */
  client(options?: ScopeClientOptions): Promise<Switchyard>;
  /** Runs `cleanup` when the case ends, before clients are closed. */
  defer(cleanup: () => unknown): void;
  /** {@link eventually} with the target's timeout as the default. */
  eventually<T>(
    check: () => T | Promise<T>,
    options?: EventuallyOptions,
  ): Promise<Exclude<T, false>>;
  /**
   * Fetches until exactly `count` deliveries arrived, within the target's
   * timeout; with `ack`, acknowledges each.
   */
  fetchUntil<T>(
    consumer: PullConsumer<T>,
    count: number,
    options?: { ack?: boolean },
  ): Promise<Delivery<T>[]>;
  /** Fails if `consumer` receives anything for `waitMs` (default quietMs). */
  expectNothing<T>(consumer: PullConsumer<T>, waitMs?: number): Promise<void>;
}

/** What each area of the suite registers its cases with. */
export interface Kit {
  readonly capabilities: Capabilities;
  readonly timeouts: ResolvedTimeouts;
  /** Whether the provider declares `feature` supported. */
  supports(feature: Feature): boolean;
  /** Registers a case that runs `body` in a fresh environment. */
  test(name: string, body: (scope: Scope) => Promise<void>): void;
}

const DEFAULT_TIMEOUTS: ResolvedTimeouts = {
  caseMs: 30_000,
  eventuallyMs: 10_000,
  quietMs: 500,
  leaseMs: 500,
  requestMs: 2_000,
};

/** The target's timeouts with the defaults filled in. */
export function resolveTimeouts(
  timeouts: ConformanceTimeouts = {},
): ResolvedTimeouts {
  const given = Object.entries(timeouts).filter(([, v]) => v !== undefined);
  return { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(given) };
}

/**
 * The capabilities the target's provider declares, read from one
 * instance in a throwaway environment.
 */
export async function probeCapabilities(
  target: ConformanceTarget,
): Promise<Capabilities> {
  const environment = await target.setup();
  try {
    const provider = await environment.provider();
    try {
      return provider.capabilities;
    } finally {
      await provider.close();
    }
  } finally {
    await environment.teardown();
  }
}

/** Builds the kit that registers cases of `target`. */
export function createKit(
  target: ConformanceTarget,
  capabilities: Capabilities,
  timeouts: ResolvedTimeouts,
): Kit {
  return {
    capabilities,
    timeouts,
    supports: (feature) => supports(capabilities, feature),
    test(name, body) {
      it(
        name,
        () => runCase(target, capabilities, timeouts, body),
        timeouts.caseMs,
      );
    },
  };
}

async function runCase(
  target: ConformanceTarget,
  capabilities: Capabilities,
  timeouts: ResolvedTimeouts,
  body: (scope: Scope) => Promise<void>,
): Promise<void> {
  const environment = await target.setup();
  const clients: Switchyard[] = [];
  const cleanups: (() => unknown)[] = [];
  const scope: Scope = {
    capabilities,
    timeouts,
    async client(options = {}) {
      const provider = await environment.provider();
      const client = createSwitchyard({
        provider: options.wrap ? options.wrap(provider) : provider,
        instanceId: options.instanceId,
      });
      clients.push(client);
      return client;
    },
    defer: (cleanup) => cleanups.push(cleanup),
    eventually: (check, options) =>
      eventually(check, { timeoutMs: timeouts.eventuallyMs, ...options }),
    fetchUntil: (consumer, count, options = {}) =>
      fetchUntil(consumer, count, {
        timeoutMs: timeouts.eventuallyMs,
        ack: options.ack,
      }),
    expectNothing: (consumer, waitMs = timeouts.quietMs) =>
      expectNothing(consumer, waitMs),
  };

  let failure: unknown;
  try {
    await body(scope);
  } catch (error) {
    failure = error;
  }

  const problems = await release(environment, clients, cleanups, timeouts);
  if (failure !== undefined) throw failure;
  if (problems.length > 0) {
    throw new AggregateError(problems, 'closing the case failed');
  }
}

/** Runs the cleanups, closes the clients, tears down; returns the errors. */
async function release(
  environment: ConformanceEnvironment,
  clients: Switchyard[],
  cleanups: (() => unknown)[],
  timeouts: ResolvedTimeouts,
): Promise<unknown[]> {
  const problems: unknown[] = [];
  const attempt = async (step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      problems.push(error);
    }
  };
  const limit = timeouts.caseMs / 2;

  for (const cleanup of cleanups.reverse()) await attempt(cleanup);
  for (const client of clients.reverse()) {
    await attempt(() => within(client.close(), limit, 'closing a client'));
  }
  await attempt(() => environment.teardown());

  return problems;
}
