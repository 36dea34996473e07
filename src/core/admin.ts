/**
 * Channel administration: the transport's admin calls with the channel
 * name validated and a missing channel reported as a `NotFoundError`.
 */
import { CapabilityError, NotFoundError } from './errors.ts';
import { assertName } from './names.ts';
import type { ChannelTransport } from './provider.ts';
import type { Runtime } from './runtime.ts';
import type { ChannelAdmin } from './switchyard.ts';

/**
 * The admin of `runtime`'s channels. Every call but `list` rejects with a
 * `ValidationError` for a bad name and a `NotFoundError` for a channel
 * that does not exist. `stats` adds the channel's figures in the client's
 * producer outbox (`outbox`) when there is an outbox file.
 *
 * @example
 * const { depth } = await client.admin.stats('kv-events');
 */
export function createChannelAdmin(runtime: Runtime): ChannelAdmin {
  /** The transport, once `channel` is known to exist. */
  const existing = async (channel: string): Promise<ChannelTransport> => {
    assertName('channel', channel);
    runtime.assertOpen();
    const transport = runtime.transport('channels');
    if (!(await transport.exists(channel))) {
      throw new NotFoundError('channel', channel, { details: { channel } });
    }
    return transport;
  };

  return {
    async list() {
      runtime.assertOpen();
      return runtime.transport('channels').list();
    },
    async purge(channel, options) {
      const selective =
        options?.acknowledged === true || options?.upToSequence !== undefined;
      const { unsupported } = runtime.capabilities('channels');
      if (selective && unsupported.purgeAcknowledged !== undefined) {
        throw new CapabilityError(
          `purging only acknowledged messages is not supported by the channels provider: ${unsupported.purgeAcknowledged}`,
          { feature: 'purgeAcknowledged', details: { channel } },
        );
      }
      return (await existing(channel)).purge(channel, options);
    },
    async consumers(channel) {
      return (await existing(channel)).consumers(channel);
    },
    async deleteConsumer(channel, name) {
      assertName('group', name);
      await (await existing(channel)).deleteConsumer(channel, name);
    },
    async stats(channel) {
      const stats = await (await existing(channel)).stats(channel);
      const outbox = runtime.outbox.channelStats(channel);
      return outbox === undefined ? stats : { ...stats, outbox };
    },
    async deadLetters(channel, options) {
      return (await existing(channel)).deadLetters(channel, options);
    },
    async replayDeadLetters(channel, options) {
      return (await existing(channel)).replayDeadLetters(channel, options);
    },
    async purgeDeadLetters(channel) {
      return (await existing(channel)).purgeDeadLetters(channel);
    },
    async delete(channel) {
      await (await existing(channel)).delete(channel);
    },
  };
}
