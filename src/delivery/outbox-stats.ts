/**
 * Figures of a producer outbox: how many messages wait, how old the
 * oldest is and how many were refused, per channel and in all, read from
 * the file, so that they count what every process sharing it left.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { OutboxStore } from './outbox-store.ts';

/** Figures of one channel in the outbox. */
export interface OutboxChannelStats {
  /** Messages waiting to be relayed, by any process. */
  depth: number;
  /** Age of the oldest waiting message, in ms; 0 when none waits. */
  oldestAgeMs: number;
  /** Messages the transport refused for good, kept in the file. */
  failed: number;
}

/** Figures of the whole outbox. */
export interface OutboxStats extends OutboxChannelStats {
  /** The outbox file. */
  path: string;
  /** Messages this relay has handed to the transport, not yet answered. */
  inFlight: number;
  /** Messages this relay saw accepted since the outbox was opened. */
  relayed: number;
  /** Transient failures of this relay since the outbox was opened. */
  retried: number;
  /** Whether relaying is held (`Outbox.hold`). */
  held: boolean;
  /** The last transient failure seen by this relay, if any. */
  lastError?: {
    channel: string;
    message: string;
    code?: string;
    /** When it happened, ms since the epoch. */
    at: number;
  };
  /** Per channel that has waiting or failed messages. */
  channels: Record<string, OutboxChannelStats>;
}

/** The figures the file holds, in all and per channel. */
export function storeFigures(
  store: OutboxStore,
): OutboxChannelStats & { channels: Record<string, OutboxChannelStats> } {
  const now = Date.now();
  const { waiting, failed } = store.depths();
  const channels: Record<string, OutboxChannelStats> = {};
  for (const name of new Set([...waiting.keys(), ...failed.keys()])) {
    const rows = waiting.get(name);
    channels[name] = {
      depth: rows?.depth ?? 0,
      oldestAgeMs: rows === undefined ? 0 : Math.max(0, now - rows.oldestAt),
      failed: failed.get(name) ?? 0,
    };
  }
  const all = Object.values(channels);

  return {
    depth: all.reduce((sum, c) => sum + c.depth, 0),
    oldestAgeMs: all.reduce((max, c) => Math.max(max, c.oldestAgeMs), 0),
    failed: all.reduce((sum, c) => sum + c.failed, 0),
    channels,
  };
}

/**
 * The figures of the outbox file at `path` without relaying from it, for
 * a process that has not opened it: zeros when there is no file, and
 * this process's relay counters at zero. Throws a ConfigurationError
 * when the file cannot be opened.
 *
 * @example
 * const { depth, oldestAgeMs } = inspectOutbox('.switchyard/outbox.db');
 */
export function inspectOutbox(path: string): OutboxStats {
  const counters = { inFlight: 0, relayed: 0, retried: 0, held: false };
  if (!existsSync(path)) {
    return {
      path,
      depth: 0,
      oldestAgeMs: 0,
      failed: 0,
      ...counters,
      channels: {},
    };
  }

  const store = new OutboxStore(path, randomUUID());
  try {
    return { path, ...storeFigures(store), ...counters };
  } finally {
    store.close();
  }
}
