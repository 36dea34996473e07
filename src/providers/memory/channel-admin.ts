/**
 * Administration of a channel's shared state: purging, replaying dead
 * letters, and the counters admin calls report.
 */
import type { ChannelStats, ConsumerInfo } from '../../core/provider.ts';
import {
  type ChannelState,
  type ConsumerState,
  type DeadLetterRecord,
  isLeased,
  type Pending,
} from './channel-state.ts';

/**
 * Removes stored messages: all (and every consumer's pending ones), or
 * with `acknowledged` those no consumer has still to acknowledge, at or
 * below `upToSequence` when given. Returns how many.
 */
export function purgeChannel(
  channel: ChannelState,
  options: { acknowledged?: boolean; upToSequence?: number },
): number {
  if (options.acknowledged !== true) {
    const removed = channel.messages.size;
    channel.messages.clear();
    for (const consumer of channel.consumers.values()) {
      consumer.pending.clear();
    }
    channel.notify();
    return removed;
  }

  let removed = 0;
  const consumers = [...channel.consumers.values()];
  const limit = options.upToSequence ?? Number.POSITIVE_INFINITY;
  for (const sequence of channel.messages.keys()) {
    if (sequence > limit) break;
    if (!consumers.some((consumer) => consumer.pending.has(sequence))) {
      channel.messages.delete(sequence);
      removed += 1;
    }
  }
  return removed;
}

/**
 * Puts dead letters back to the consumer each came from, with a fresh
 * attempt count, storing their messages again if a purge removed them.
 * All of them, or those whose message id is in `ids`; those whose
 * consumer is gone stay. Returns how many.
 */
export function replayDeadLetters(
  channel: ChannelState,
  ids: ReadonlySet<string> | undefined,
  now: number,
): number {
  let replayed = 0;
  const kept: DeadLetterRecord[] = [];
  for (const record of channel.deadLetters) {
    const { letter, sequence } = record;
    const consumer = channel.consumers.get(letter.group);
    if (
      consumer === undefined ||
      (ids !== undefined && !ids.has(letter.message.id))
    ) {
      kept.push(record);
      continue;
    }
    if (!channel.messages.has(sequence)) {
      channel.messages = insertSorted(
        channel.messages,
        sequence,
        letter.message,
      );
    }
    const pending: Pending = {
      sequence,
      message: letter.message,
      attempts: 0,
      visibleAt: now,
    };
    consumer.pending = insertSorted(consumer.pending, sequence, pending);
    replayed += 1;
  }
  channel.deadLetters = kept;
  if (replayed > 0) channel.notify();

  return replayed;
}

/** What admin calls report about a consumer. */
export function consumerInfo(
  channel: ChannelState,
  consumer: ConsumerState,
  now: number,
): ConsumerInfo {
  let inFlight = 0;
  for (const pending of consumer.pending.values()) {
    if (isLeased(pending, now)) inFlight += 1;
  }
  const first = consumer.pending.keys().next();
  const info: ConsumerInfo = {
    name: consumer.name,
    mode: consumer.mode,
    pending: consumer.pending.size - inFlight,
    inFlight,
    ackFloor: first.done === true ? channel.lastSequence : first.value - 1,
  };
  if (consumer.lastActiveAt !== undefined) {
    info.lastActiveAt = consumer.lastActiveAt;
  }
  return info;
}

/** Counters of the channel and of each of its consumers. */
export function channelStats(channel: ChannelState, now: number): ChannelStats {
  const leased = new Set<number>();
  const consumers: ChannelStats['consumers'] = {};
  for (const consumer of channel.consumers.values()) {
    let inFlight = 0;
    for (const pending of consumer.pending.values()) {
      if (!isLeased(pending, now)) continue;
      inFlight += 1;
      leased.add(pending.sequence);
    }
    consumers[consumer.name] = { lag: consumer.pending.size, inFlight };
  }

  return {
    depth: channel.messages.size,
    inFlight: leased.size,
    deadLettered: channel.deadLetters.length,
    consumers,
  };
}

/** A copy of `map` with `key` set, keys kept in ascending order. */
function insertSorted<V>(
  map: Map<number, V>,
  key: number,
  value: V,
): Map<number, V> {
  const entries = [...map];
  entries.push([key, value]);
  entries.sort((a, b) => a[0] - b[0]);

  return new Map(entries);
}
