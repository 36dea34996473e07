/**
 * Channels of the local provider: declaring them, publishing with group
 * commit and a dedup window, and opening consumers. Administration
 * (purge, stats, dead letters) is in `channel-admin.ts`.
 */

import { PayloadTooLargeError } from '../../core/errors.ts';
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
import { ChannelAdmin } from './channel-admin.ts';
import { LocalConsumer, removeConsumer } from './consumer.ts';
import { channelTopic, type LocalContext } from './context.ts';
import { lastSequence, type Statement } from './database.ts';
import { DedupIndex } from './dedup.ts';
import { Leases } from './leases.ts';
import {
  MESSAGE_COLUMNS,
  MESSAGE_PLACEHOLDERS,
  messageParams,
} from './messages.ts';
import { notFound, PROVIDER, read } from './support.ts';

/** A channel's row. */
export interface ChannelRow {
  id: number;
  ordered: number;
}

/**
 * The channels of one data folder.
 *
 * Messages stay stored after every group acknowledged them, until a
 * purge removes them (`purge({ acknowledged: true })` removes only what
 * every consumer is done with), so `depth` counts what is stored.
 */
export class LocalChannels implements ChannelTransport {
  readonly #context: LocalContext;
  readonly #leases: Leases;
  readonly #admin: ChannelAdmin;
  readonly #channel: Statement;
  readonly #insertChannel: Statement;
  readonly #insertMessage: Statement;
  readonly #dedup: DedupIndex;
  /** Rows looked up by publishes of the transaction under way. */
  readonly #published = new Map<string, ChannelRow | undefined>();
  readonly #consumer: Statement;
  readonly #insertConsumer: Statement;

  constructor(context: LocalContext) {
    const { db } = context;
    this.#context = context;
    this.#leases = new Leases(db);
    this.#admin = new ChannelAdmin(context, (name) => this.channelRow(name));
    this.#channel = db.prepare(
      'SELECT id, ordered FROM channels WHERE name = ?',
    );
    this.#insertChannel = db.prepare(
      `INSERT INTO channels (name, ordered, created_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO NOTHING`,
    );
    this.#insertMessage = db.prepare(
      `INSERT INTO messages (channel_id, ${MESSAGE_COLUMNS})
       VALUES (?, ${MESSAGE_PLACEHOLDERS})`,
    );
    this.#dedup = new DedupIndex(db, context.options.dedupWindowMs);
    context.writer.observe(this.#dedup);
    const forget = () => this.#published.clear();
    context.writer.observe({ committed: forget, rolledBack: forget });
    this.#consumer = db.prepare(
      'SELECT id, mode FROM consumers WHERE channel_id = ? AND name = ?',
    );
    this.#insertConsumer = db.prepare(
      `INSERT INTO consumers
         (channel_id, name, mode, cursor, created_at, active_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
  }

  async ensure(spec: ChannelSpec): Promise<void> {
    this.#context.lifecycle.check('ensure a channel');

    await this.#context.writer.run('ensure channel', () => {
      this.#insertChannel.run(spec.name, spec.ordered ? 1 : 0, Date.now());
      const channel = this.channelRow(spec.name)!;
      for (const group of spec.groups) {
        this.#openConsumer(channel.id, group, 'group');
      }
    });
  }

  async exists(channel: string): Promise<boolean> {
    this.#context.lifecycle.check('look up a channel');
    return (
      read('look up a channel', () => this.channelRow(channel)) !== undefined
    );
  }

  async list(): Promise<string[]> {
    this.#context.lifecycle.check('list channels');
    const rows = read('list channels', () =>
      this.#context.db.prepare('SELECT name FROM channels ORDER BY name').all(),
    ) as { name: string }[];
    return rows.map((row) => row.name);
  }

  async delete(channel: string): Promise<void> {
    this.#context.lifecycle.check('delete a channel');

    await this.#context.writer.run('delete channel', () => {
      this.#published.delete(channel);
      const row = this.channelRow(channel);
      if (row === undefined) return;
      const { db } = this.#context;
      db.prepare(
        `DELETE FROM deliveries WHERE consumer_id IN
           (SELECT id FROM consumers WHERE channel_id = ?)`,
      ).run(row.id);
      // Its ids stay in the dedup log until they expire: channel ids are
      // never reused, so they cannot match a later channel's messages.
      for (const table of ['consumers', 'messages', 'dead_letters']) {
        db.prepare(`DELETE FROM ${table} WHERE channel_id = ?`).run(row.id);
      }
      db.prepare('DELETE FROM channels WHERE id = ?').run(row.id);
    });
    this.#context.wakeups.notify(channelTopic(channel));
  }

  async publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> {
    this.#context.lifecycle.check('publish');
    const { maxPayloadBytes, dedupWindowMs } = this.#context.options;

    const outcomes = await this.#context.writer.run('publish', () => {
      let row = this.#published.get(channel);
      if (row === undefined) {
        row = this.channelRow(channel);
        if (row === undefined) throw notFound('channel', channel, { channel });
        this.#published.set(channel, row);
      }
      const now = Date.now();

      return messages.map((message): TransportPublishOutcome => {
        const size = message.body.byteLength;
        if (size > maxPayloadBytes) {
          return {
            ok: false,
            error: new PayloadTooLargeError(size, maxPayloadBytes, {
              what: 'message body',
              details: { provider: PROVIDER, channel, messageId: message.id },
            }),
          };
        }
        if (dedupWindowMs > 0) {
          const seen = this.#dedup.find(row.id, message.id, now);
          if (seen !== undefined) {
            return { ok: true, duplicate: true, channelSequence: seen };
          }
        }
        const { lastInsertRowid } = this.#insertMessage.run(
          row.id,
          ...messageParams(message),
        );
        const seq = Number(lastInsertRowid);
        if (dedupWindowMs > 0)
          this.#dedup.remember(row.id, message.id, seq, now);
        return { ok: true, duplicate: false, channelSequence: seq };
      });
    });

    this.#context.wakeups.notify(channelTopic(channel));
    return outcomes;
  }

  async consume(spec: ConsumerSpec): Promise<TransportConsumer> {
    this.#context.lifecycle.check('open a consumer');

    const ref = await this.#context.writer.run('open consumer', () => {
      const row = this.channelRow(spec.channel);
      if (row === undefined) {
        throw notFound('channel', spec.channel, { channel: spec.channel });
      }
      this.#admin.removeInactive(row.id);
      const id = this.#openConsumer(row.id, spec.name, spec.mode);
      return {
        id,
        name: spec.name,
        channel: spec.channel,
        channelId: row.id,
        ordered: row.ordered === 1,
      };
    });

    const consumer = new LocalConsumer(this.#context, this.#leases, ref, spec);
    this.#context.lifecycle.track(consumer);
    return consumer;
  }

  purge(
    channel: string,
    options?: { acknowledged?: boolean; upToSequence?: number },
  ): Promise<number> {
    return this.#admin.purge(channel, options);
  }

  consumers(channel: string): Promise<ConsumerInfo[]> {
    return this.#admin.consumers(channel);
  }

  deleteConsumer(channel: string, name: string): Promise<void> {
    return this.#admin.deleteConsumer(channel, name);
  }

  stats(channel: string): Promise<ChannelStats> {
    return this.#admin.stats(channel);
  }

  deadLetters(
    channel: string,
    options?: { limit?: number },
  ): Promise<DeadLetter[]> {
    return this.#admin.deadLetters(channel, options);
  }

  replayDeadLetters(
    channel: string,
    options?: { ids?: readonly string[] },
  ): Promise<number> {
    return this.#admin.replayDeadLetters(channel, options);
  }

  purgeDeadLetters(channel: string): Promise<number> {
    return this.#admin.purgeDeadLetters(channel);
  }

  /** The channel's row, or undefined if it was never ensured. */
  channelRow(channel: string): ChannelRow | undefined {
    return this.#channel.get(channel) as ChannelRow | undefined;
  }

  /**
   * Creates the consumer if absent, with its cursor at the end of the
   * channel so that it sees only messages published from now on. A
   * broadcast consumer is always created afresh.
   */
  #openConsumer(
    channelId: number,
    name: string,
    mode: 'group' | 'broadcast',
  ): number {
    const existing = this.#consumer.get(channelId, name) as
      | { id: number; mode: string }
      | undefined;
    if (existing !== undefined) {
      if (mode === 'group') return existing.id;
      removeConsumer(this.#context, existing.id);
    }
    const now = Date.now();
    const { lastInsertRowid } = this.#insertConsumer.run(
      channelId,
      name,
      mode,
      lastSequence(this.#context.db),
      now,
      now,
    );
    return Number(lastInsertRowid);
  }
}
