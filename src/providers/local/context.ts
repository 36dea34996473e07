/**
 * What the parts of one local provider instance share: the database, its
 * write queue, the in-process wake-ups, the options, and the lifecycle
 * that closes the consumers and watches the instance opened.
 */
import type { Logger } from '../../core/logger.ts';
import type { Db } from './database.ts';
import type { ResolvedLocalOptions } from './options.ts';
import { closed } from './support.ts';
import type { Wakeups } from './wakeups.ts';
import type { Writer } from './writer.ts';

/** Something a provider instance opened and closes with itself. */
export interface Closable {
  close(): Promise<void>;
}

/** The shared state of one provider instance. */
export interface LocalContext {
  readonly db: Db;
  readonly writer: Writer;
  readonly wakeups: Wakeups;
  readonly options: ResolvedLocalOptions;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
}

/**
 * The open or closed state of one provider instance, with the resources
 * it opened, so that closing the instance closes them first.
 */
export class Lifecycle {
  #closed = false;
  readonly #open = new Set<Closable>();

  /** Whether the instance was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws a ClosedError once the instance is closed. */
  check(operation: string): void {
    if (this.#closed) throw closed(operation);
  }

  /** Closes `resource` with the instance, unless it is closed before. */
  track(resource: Closable): void {
    this.#open.add(resource);
  }

  /** Forgets a resource that closed by itself. */
  untrack(resource: Closable): void {
    this.#open.delete(resource);
  }

  /** Marks the instance closed and closes every resource still open. */
  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#open];
    this.#open.clear();
    await Promise.allSettled(open.map((resource) => resource.close()));
  }
}

/** The wake-up topic of a channel. */
export function channelTopic(channel: string): string {
  return `channel:${channel}`;
}

/** The wake-up topic of a key-value bucket. */
export function bucketTopic(bucketId: number): string {
  return `kv:${bucketId}`;
}
