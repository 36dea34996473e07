/** Channels of the memory provider, over the namespace's shared state. */
import { ConflictError, PayloadTooLargeError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import type {
  ChannelSpec,
  ChannelStats,
  ChannelTransport,
  ConsumerInfo,
  ConsumerSpec,
  DeadLetter,
  TransportConsumer,
  TransportPublishOutcome,
} from '../../core/provider.ts';
import {
  channelStats,
  consumerInfo,
  purgeChannel,
  replayDeadLetters,
} from './channel-admin.ts';
import { ChannelState } from './channel-state.ts';
import { copyMessage, MemoryConsumer } from './consumer.ts';
import { type Lifecycle, notFound, PROVIDER } from './support.ts';

/** What the channels of one provider instance need. */
export interface MemoryChannelsOptions {
  /** The namespace's channels, shared with other instances. */
  channels: Map<string, ChannelState>;
  lifecycle: Lifecycle;
  maxPayloadBytes: number;
  dedupWindowMs: number;
}

/**
 * Creates the channel transport of one provider instance.
 *
 * Messages stay stored after every consumer acknowledged them, until a
 * purge removes them, as on a stream. A channel declared unordered
 * becomes ordered when a later `ensure` asks for ordering; it never goes
 * back. Dead letters are replayed only to a consumer that still exists:
 * those of a deleted group or a closed broadcast consumer stay. Deleting
 * an absent channel does nothing. Stale
 * operations on a delivery (after it was acknowledged, purged, or its
 * lease ran out and it was delivered again) are ignored for `ack`, `nak`
 * and `deadLetter`, so they never disturb the newer delivery, while
 * `extend` raises a ConflictError, so that the holder learns it lost the
 * lease.
 */
export function createMemoryChannels(
  options: MemoryChannelsOptions,
): ChannelTransport {
  const { channels, lifecycle } = options;

  const channel = (name: string, operation: string): ChannelState => {
    lifecycle.check(operation);
    const state = channels.get(name);
    if (state === undefined) {
      throw notFound('channel', name, { channel: name });
    }
    return state;
  };

  return {
    async ensure(spec: ChannelSpec): Promise<void> {
      lifecycle.check('ensure a channel');
      let state = channels.get(spec.name);
      if (state === undefined) {
        state = new ChannelState(spec.name, spec.ordered);
        channels.set(spec.name, state);
      }
      state.ordered ||= spec.ordered;
      for (const group of spec.groups) state.addConsumer(group, 'group');
    },

    async exists(name: string): Promise<boolean> {
      lifecycle.check('look up a channel');
      return channels.has(name);
    },

    async list(): Promise<string[]> {
      lifecycle.check('list channels');
      return [...channels.keys()].sort();
    },

    async delete(name: string): Promise<void> {
      lifecycle.check('delete a channel');
      const state = channels.get(name);
      if (state === undefined) return;
      channels.delete(name);
      state.deleted = true;
      state.notify();
    },

    async publish(
      name: string,
      messages: readonly WireMessage[],
    ): Promise<TransportPublishOutcome[]> {
      const state = channel(name, 'publish');
      const now = Date.now();
      const outcomes = messages.map((message) => {
        const size = message.body.byteLength;
        if (size > options.maxPayloadBytes) {
          const error = new PayloadTooLargeError(
            size,
            options.maxPayloadBytes,
            {
              what: `message ${message.id}`,
              details: {
                provider: PROVIDER,
                channel: name,
                messageId: message.id,
              },
            },
          );
          return { ok: false as const, error };
        }
        const stored = { ...copyMessage(message), channel: name };
        const { sequence, duplicate } = state.publish(
          stored,
          now,
          options.dedupWindowMs,
        );
        return { ok: true as const, channelSequence: sequence, duplicate };
      });
      state.notify();

      return outcomes;
    },

    async consume(spec: ConsumerSpec): Promise<TransportConsumer> {
      const state = channel(spec.channel, 'consume');
      const existing = state.consumers.get(spec.name);
      if (existing !== undefined && existing.mode !== spec.mode) {
        throw new ConflictError(
          `consumer '${spec.name}' of channel '${spec.channel}' is a ${existing.mode} consumer, not a ${spec.mode} one`,
          {
            details: {
              provider: PROVIDER,
              channel: spec.channel,
              group: spec.name,
            },
          },
        );
      }
      const consumerState = state.addConsumer(spec.name, spec.mode);
      const consumer = new MemoryConsumer(state, consumerState, spec, (c) =>
        lifecycle.untrack(c),
      );
      lifecycle.track(consumer);

      return consumer;
    },

    async purge(
      name: string,
      purgeOptions: { acknowledged?: boolean; upToSequence?: number } = {},
    ): Promise<number> {
      return purgeChannel(channel(name, 'purge a channel'), purgeOptions);
    },

    async consumers(name: string): Promise<ConsumerInfo[]> {
      const state = channel(name, 'list consumers');
      const now = Date.now();
      return [...state.consumers.values()].map((c) =>
        consumerInfo(state, c, now),
      );
    },

    async deleteConsumer(name: string, consumer: string): Promise<void> {
      const state = channel(name, 'delete a consumer');
      if (!state.consumers.delete(consumer)) {
        throw notFound('consumer', consumer, {
          channel: name,
          group: consumer,
        });
      }
      state.notify();
    },

    async stats(name: string): Promise<ChannelStats> {
      return channelStats(channel(name, 'read channel stats'), Date.now());
    },

    async deadLetters(
      name: string,
      listOptions: { limit?: number } = {},
    ): Promise<DeadLetter[]> {
      const state = channel(name, 'list dead letters');
      const limit = listOptions.limit ?? Number.POSITIVE_INFINITY;
      return state.deadLetters.slice(0, limit).map(({ letter }) => ({
        ...letter,
        message: copyMessage(letter.message),
      }));
    },

    async replayDeadLetters(
      name: string,
      replayOptions: { ids?: readonly string[] } = {},
    ): Promise<number> {
      const state = channel(name, 'replay dead letters');
      const ids =
        replayOptions.ids === undefined
          ? undefined
          : new Set(replayOptions.ids);
      return replayDeadLetters(state, ids, Date.now());
    },

    async purgeDeadLetters(name: string): Promise<number> {
      const state = channel(name, 'purge dead letters');
      const removed = state.deadLetters.length;
      state.deadLetters = [];
      return removed;
    },
  };
}
