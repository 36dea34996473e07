/**
 * What the parts of one local provider instance share: the database, its
 * write queue, the in-process wake-ups, the options, and the lifecycle
 * that closes the consumers and watches the instance opened.
 */
import type { Logger } from '../../core/logger.ts';
import type { Lifecycle } from '../../core/provider-kit.ts';
import type { Db } from './database.ts';
import type { ResolvedLocalOptions } from './options.ts';
import type { Wakeups } from './wakeups.ts';

export type { Closable } from '../../core/provider-kit.ts';

import type { Writer } from './writer.ts';

/** The shared state of one provider instance. */
export interface LocalContext {
  readonly db: Db;
  readonly writer: Writer;
  readonly wakeups: Wakeups;
  readonly options: ResolvedLocalOptions;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
}

/** The wake-up topic of a channel. */
export function channelTopic(channel: string): string {
  return `channel:${channel}`;
}

/** The wake-up topic of a key-value bucket. */
export function bucketTopic(bucketId: number): string {
  return `kv:${bucketId}`;
}
