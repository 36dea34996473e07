/**
 * Factories of the local provider's tests: messages, temporary data
 * folders, and child processes that share a data folder with the test.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireMessage } from '../../src/core/message.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  Provider,
} from '../../src/core/provider.ts';
import {
  createLocalProvider,
  type LocalProviderOptions,
} from '../../src/providers/local/index.ts';
import { startReportingChild } from '../support/children.ts';

const CHILD = join(import.meta.dirname, 'child.ts');

/** Message number `index` of a test publisher on `channel`. */
export function wireMessage(channel: string, index: number): WireMessage {
  return {
    id: `m${index}`,
    channel,
    body: new TextEncoder().encode(JSON.stringify({ index })),
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'test-publisher',
    sequence: index + 1,
  };
}

/** `count` messages numbered from `from`. */
export function wireMessages(
  channel: string,
  count: number,
  from = 0,
): WireMessage[] {
  return Array.from({ length: count }, (_, i) =>
    wireMessage(channel, from + i),
  );
}

/**
 * A consumer of the group crew on the channel tasks, with a lease long
 * enough that it never lapses within a test.
 */
export const CREW: ConsumerSpec = {
  channel: 'tasks',
  mode: 'group',
  name: 'crew',
  leaseMs: 30_000,
  maxAttempts: 5,
};

/** A child process playing a role of `child.ts`, with what it reported. */
export interface Child {
  readonly process: ChildProcess;
  readonly events: Record<string, unknown>[];
  /** Resolves with the first event (past or future) that has `field`. */
  next(field: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Kills the child with SIGKILL and waits until it is gone. */
  kill(): Promise<void>;
}

/**
 * What one test opened: data folders, providers and child processes,
 * all released by {@link Fixture.release} in `afterEach`.
 */
export class Fixture {
  readonly #dirs: string[] = [];
  readonly #providers: Provider[] = [];
  readonly #children: Child[] = [];

  /** A fresh data folder under the system's temporary folder. */
  async dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-local-'));
    this.#dirs.push(dir);
    return dir;
  }

  /** A local provider on `dataDir`, closed on release. */
  async provider(
    dataDir: string,
    options: LocalProviderOptions = {},
  ): Promise<Provider> {
    const provider = await createLocalProvider({ ...options, dataDir });
    this.#providers.push(provider);
    return provider;
  }

  /**
   * A local provider on a fresh data folder, with the channel tasks
   * declared for the group crew and `count` messages published on it.
   */
  async tasks(
    count: number,
  ): Promise<{ dataDir: string; channels: ChannelTransport }> {
    const dataDir = await this.dataDir();
    const provider = await this.provider(dataDir);
    const channels = provider.channels!;

    await channels.ensure({ name: 'tasks', ordered: false, groups: ['crew'] });
    await channels.publish('tasks', wireMessages('tasks', count));
    return { dataDir, channels };
  }

  /** Starts `child.ts` in `role` on `dataDir` and waits until it is ready. */
  async child(role: string, dataDir: string, ...args: string[]) {
    const child = startChild(role, dataDir, args);
    this.#children.push(child);
    await child.next('ready');
    return child;
  }

  /** Kills the children by pid, closes the providers, removes folders. */
  async release(): Promise<void> {
    await Promise.all(this.#children.splice(0).map((child) => child.kill()));
    await Promise.all(this.#providers.splice(0).map((p) => p.close()));
    await Promise.all(
      this.#dirs
        .splice(0)
        .map((dir) => rm(dir, { recursive: true, force: true })),
    );
  }
}

function startChild(role: string, dataDir: string, args: string[]): Child {
  const child = startReportingChild(CHILD, [role, dataDir, ...args], role);
  return { ...child, events: child.reports };
}
