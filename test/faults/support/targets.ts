/**
 * The servers of the fault suite, one setup per provider, and what a test
 * opened on them, released after each test:
 *
 * - local: a fresh temporary data folder, shared by the test process and
 *   its children (there is no server, so no network and no broker);
 * - nats: a nats-server of its own with JetStream on a free port and a
 *   store folder (`startNatsServer`), which the test may restart;
 * - aws: one moto server per test file (`startMotoServer`), with a fresh
 *   resource prefix per target.
 *
 * Each target gives the configuration that reaches its server directly,
 * the configuration a child process needs, and, for a server, the same
 * through a {@link TcpProxy}.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { createSwitchyard } from '../../../src/core/client.ts';
import type { Provider } from '../../../src/core/provider.ts';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { type MotoServer, startMotoServer } from '../../aws/moto.ts';
import { type NatsTestServer, startNatsServer } from '../../nats/server.ts';
import {
  type ReportingChild,
  startReportingChild,
} from '../../support/children.ts';
import type { ChildPlan, ConsumePlan, ProducePlan } from './child.ts';
import {
  openProvider,
  type ProviderConfig,
  type ProviderName,
} from './config.ts';
import { startProxy, type TcpProxy } from './proxy.ts';

const CHILD = join(import.meta.dirname, 'child.ts');

/** One provider's server, set up for one test. */
export interface FaultTarget {
  readonly name: ProviderName;
  /** The configuration that reaches the server directly. */
  readonly config: ProviderConfig;
  /** The server's port on 127.0.0.1; undefined for local, which has none. */
  readonly serverPort: number | undefined;
  /** The nats test server, to restart it; undefined on other providers. */
  readonly nats: NatsTestServer | undefined;
  /**
   * The configuration whose connections go to `proxy` instead of the
   * server. Throws for local, which has no server to reach.
   */
  via(proxy: TcpProxy): ProviderConfig;
}

/** Provider options a test adds to those of its target. */
export type TargetOptions = Record<string, unknown>;

/**
 * What the tests of one file open on the fault suite's servers. Make it
 * at the top of a test file: it registers the `afterEach` that releases
 * what a test opened (children killed first, then clients, providers,
 * proxies, servers and folders) and the `afterAll` that stops the file's
 * moto server.
 *
 * @example
 * ```ts
 * const faults = new FaultFixture();
 * test('...', async () => {
 *   const target = await faults.target('nats');
 *   const client = await faults.client(target.config);
 *   const worker = await faults.consumer({ config: target.config, ... });
 * });
 * ```
 */
export class FaultFixture {
  readonly #children: ReportingChild[] = [];
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #proxies: TcpProxy[] = [];
  #moto: Promise<MotoServer> | undefined;

  constructor() {
    afterEach(() => this.release());
    afterAll(async () => {
      const moto = this.#moto;
      this.#moto = undefined;
      if (moto !== undefined) await (await moto).stop();
    });
  }

  /** Sets up `name`'s server for this test, with `options` added. */
  async target(
    name: ProviderName,
    options: TargetOptions = {},
  ): Promise<FaultTarget> {
    if (name === 'local') {
      const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-faults-'));
      this.#closers.push(() => rm(dataDir, { recursive: true, force: true }));
      return {
        name,
        config: { provider: name, options: { ...options, dataDir } },
        serverPort: undefined,
        nats: undefined,
        via() {
          throw new Error('the local provider has no server to proxy');
        },
      };
    }
    if (name === 'nats') {
      const server = await startNatsServer();
      this.#closers.push(() => server.stop());
      const config = (servers: string): ProviderConfig => ({
        provider: name,
        options: { connectTimeoutMs: 2_000, ...options, servers },
      });
      return {
        name,
        config: config(server.url),
        serverPort: server.port,
        nats: server,
        via: (proxy) => config(`nats://${proxy.address}`),
      };
    }
    this.#moto ??= startMotoServer();
    const moto = await this.#moto;
    const prefix = `f${randomBytes(4).toString('hex')}-`;
    const config = (endpoint: string): ProviderConfig => ({
      provider: name,
      options: { ...options, endpoint, prefix },
    });
    return {
      name,
      config: config(moto.endpoint),
      serverPort: moto.port,
      nats: undefined,
      via: (proxy) => config(`http://${proxy.address}`),
    };
  }

  /** A provider on `config`, closed after the test. */
  async provider(config: ProviderConfig): Promise<Provider> {
    const provider = await openProvider(config);
    this.#closers.push(() => provider.close());
    return provider;
  }

  /** A client on a provider on `config`, closed after the test. */
  async client(config: ProviderConfig): Promise<Switchyard> {
    const client = createSwitchyard({ provider: await openProvider(config) });
    this.#closers.push(() => client.close());
    return client;
  }

  /** A proxy in front of `target`'s server, stopped after the test. */
  async proxy(target: FaultTarget): Promise<TcpProxy> {
    if (target.serverPort === undefined) {
      throw new Error(`the ${target.name} provider has no server to proxy`);
    }
    const proxy = await startProxy({ port: target.serverPort });
    this.#proxies.push(proxy);
    this.#closers.push(() => proxy.stop());
    return proxy;
  }

  /** A producer child process, once it is ready; see `child.ts`. */
  producer(plan: Omit<ProducePlan, 'role'>): Promise<ProducerChild> {
    return this.#start({ role: 'produce', ...plan }).then(asProducer);
  }

  /** A consumer child process, once it is ready; see `child.ts`. */
  consumer(plan: Omit<ConsumePlan, 'role'>): Promise<ConsumerChild> {
    return this.#start({ role: 'consume', ...plan }).then(asConsumer);
  }

  /**
   * Kills the children, lifts the proxies' faults so that clients close
   * promptly, then closes and removes the rest, newest first.
   */
  async release(): Promise<void> {
    await Promise.all(this.#children.splice(0).map((child) => child.kill()));
    for (const proxy of this.#proxies.splice(0)) {
      proxy.delay(0);
      proxy.resume();
    }
    const failures: unknown[] = [];
    for (const close of this.#closers.splice(0).reverse()) {
      await close().catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw failures[0];
  }

  async #start(plan: ChildPlan): Promise<ReportingChild> {
    const name = `${plan.role} on ${plan.config.provider}`;
    const child = startReportingChild(CHILD, [JSON.stringify(plan)], name);
    this.#children.push(child);
    await child.next('ready', 30_000);
    return child;
  }
}

/** A producer child: what it confirmed and what failed. */
export interface ProducerChild extends ReportingChild {
  /** Ids whose publish resolved, in order. */
  confirmed(): string[];
  /** Each failed attempt, with the error's code and retryability. */
  failures(): { id: string; code: string; retryable: boolean }[];
}

/** A consumer child: what it was handed, handled and settled. */
export interface ConsumerChild extends ReportingChild {
  /** Ids of every delivery the transport handed out, in order. */
  fetched(): string[];
  /** Ids of every handler run that started. */
  started(): string[];
  /** Ids of every handler run that returned. */
  handled(): string[];
  /** Ids whose idempotency record this child completed. */
  completed(): string[];
  /** Ids whose acknowledgement resolved. */
  acked(): string[];
  /** Ids handed out and not acknowledged (dead letters count as settled). */
  unsettled(): string[];
}

function asProducer(child: ReportingChild): ProducerChild {
  return Object.assign(child, {
    confirmed: () => child.values<string>('confirmed'),
    failures: () =>
      child.reports.flatMap((r) =>
        'failed' in r
          ? [
              {
                id: r.failed as string,
                code: r.code as string,
                retryable: r.retryable as boolean,
              },
            ]
          : [],
      ),
  });
}

function asConsumer(child: ReportingChild): ConsumerChild {
  const fetched = () => child.values<string[]>('fetched').flat();
  return Object.assign(child, {
    fetched,
    started: () => child.values<string>('started'),
    handled: () => child.values<string>('handled'),
    completed: () => child.values<string>('completed'),
    acked: () => child.values<string>('acked'),
    unsettled: () => {
      // A message handed out twice to the same child counts twice.
      const open = new Map<string, number>();
      for (const id of fetched()) open.set(id, (open.get(id) ?? 0) + 1);
      const settled = [
        ...child.values<string>('acked'),
        ...child.values<string>('deadLettered'),
      ];
      for (const id of settled) open.set(id, (open.get(id) ?? 0) - 1);
      return [...open].filter(([, n]) => n > 0).map(([id]) => id);
    },
  });
}
