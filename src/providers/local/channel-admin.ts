/**
 * Administration of local channels: purges, consumers, stats and dead
 * letters. Counts are read without the write lock; changes go through
 * the write queue like every other write.
 */
import type {
  ChannelStats,
  ConsumerInfo,
  DeadLetter,
} from '../../core/provider.ts';
import type { ChannelRow } from './channels.ts';
import { removeConsumer } from './consumer.ts';
import { channelTopic, type LocalContext } from './context.ts';
import { lastSequence, type Statement } from './database.ts';
import {
  MESSAGE_COLUMNS,
  MESSAGE_PLACEHOLDERS,
  type MessageRow,
  toWireMessage,
} from './messages.ts';
import { notFound, read } from './support.ts';

interface ConsumerCounts {
  id: number;
  name: string;
  mode: 'group' | 'broadcast';
  cursor: number;
  active_at: number;
  fresh: number;
  waiting: number;
  taken: number;
  first: number | null;
}

interface DeadLetterRow extends MessageRow {
  entry: number;
  consumer: string;
  reason: string;
  attempts: number;
  dead_lettered_at: number;
}

/** Purges, consumer listings, stats and dead letters of channels. */
export class ChannelAdmin {
  readonly #context: LocalContext;
  readonly #channelRow: (name: string) => ChannelRow | undefined;
  readonly #counts: Statement;
  readonly #inactive: Statement;

  constructor(
    context: LocalContext,
    channelRow: (name: string) => ChannelRow | undefined,
  ) {
    this.#context = context;
    this.#channelRow = channelRow;
    this.#counts = context.db.prepare(
      `SELECT c.id, c.name, c.mode, c.cursor, c.active_at,
         (SELECT count(*) FROM messages m
          WHERE m.channel_id = c.channel_id AND m.seq > c.cursor) AS fresh,
         (SELECT count(*) FROM deliveries d
          WHERE d.consumer_id = c.id AND d.attempt = 0) AS waiting,
         (SELECT count(*) FROM deliveries d
          WHERE d.consumer_id = c.id AND d.attempt > 0) AS taken,
         (SELECT min(seq) FROM deliveries d
          WHERE d.consumer_id = c.id) AS first
       FROM consumers c WHERE c.channel_id = ? ORDER BY c.name`,
    );
    this.#inactive = context.db.prepare(
      `SELECT id FROM consumers
       WHERE channel_id = ? AND mode = 'broadcast' AND active_at < ?`,
    );
  }

  /** See `ChannelTransport.purge`. */
  async purge(
    channel: string,
    options: { acknowledged?: boolean; upToSequence?: number } = {},
  ): Promise<number> {
    this.#context.lifecycle.check('purge a channel');
    const { db } = this.#context;
    const acknowledged =
      options.acknowledged === true || options.upToSequence !== undefined;

    const removed = await this.#context.writer.run('purge channel', () => {
      const row = this.#require(channel);
      this.removeInactive(row.id);
      if (!acknowledged) {
        db.prepare(
          `DELETE FROM deliveries WHERE consumer_id IN
             (SELECT id FROM consumers WHERE channel_id = ?)`,
        ).run(row.id);
        // Cursors move past everything removed, so that a dead letter
        // replayed later cannot reach a consumer that never had it.
        db.prepare(
          'UPDATE consumers SET cursor = max(cursor, ?) WHERE channel_id = ?',
        ).run(lastSequence(db), row.id);
        return db
          .prepare('DELETE FROM messages WHERE channel_id = ?')
          .run(row.id).changes;
      }

      let floor = options.upToSequence ?? Number.MAX_SAFE_INTEGER;
      for (const consumer of this.#countsOf(row.id)) {
        floor = Math.min(floor, ackFloor(consumer));
      }
      return db
        .prepare('DELETE FROM messages WHERE channel_id = ? AND seq <= ?')
        .run(row.id, floor).changes;
    });

    this.#context.wakeups.notify(channelTopic(channel));
    return removed;
  }

  /** See `ChannelTransport.consumers`. */
  async consumers(channel: string): Promise<ConsumerInfo[]> {
    this.#context.lifecycle.check('list consumers');
    const row = await this.#sweep(channel);

    const counts = read('list consumers', () => this.#countsOf(row.id));
    return counts.map((consumer) => ({
      name: consumer.name,
      mode: consumer.mode,
      pending: consumer.fresh + consumer.waiting,
      inFlight: consumer.taken,
      ackFloor: ackFloor(consumer),
      lastActiveAt: consumer.active_at,
    }));
  }

  /** See `ChannelTransport.deleteConsumer`. */
  async deleteConsumer(channel: string, name: string): Promise<void> {
    this.#context.lifecycle.check('delete a consumer');

    await this.#context.writer.run('delete consumer', () => {
      const row = this.#require(channel);
      const consumer = this.#context.db
        .prepare('SELECT id FROM consumers WHERE channel_id = ? AND name = ?')
        .get(row.id, name) as { id: number } | undefined;
      if (consumer === undefined) {
        throw notFound('consumer', name, { channel, group: name });
      }
      removeConsumer(this.#context, consumer.id);
    });
  }

  /** See `ChannelTransport.stats`. */
  async stats(channel: string): Promise<ChannelStats> {
    this.#context.lifecycle.check('read channel stats');
    const row = await this.#sweep(channel);
    const { db } = this.#context;

    const count = (sql: string): number =>
      read(
        'read channel stats',
        () => db.prepare(sql).get(row.id) as { n: number },
      ).n;
    const consumers: ChannelStats['consumers'] = {};
    const counts = read('read channel stats', () => this.#countsOf(row.id));
    for (const consumer of counts) {
      consumers[consumer.name] = {
        lag: consumer.fresh + consumer.waiting + consumer.taken,
        inFlight: consumer.taken,
      };
    }

    return {
      depth: count('SELECT count(*) AS n FROM messages WHERE channel_id = ?'),
      inFlight: count(
        `SELECT count(DISTINCT d.seq) AS n FROM deliveries d
         JOIN consumers c ON c.id = d.consumer_id
         WHERE c.channel_id = ? AND d.attempt > 0`,
      ),
      deadLettered: count(
        'SELECT count(*) AS n FROM dead_letters WHERE channel_id = ?',
      ),
      consumers,
    };
  }

  /** See `ChannelTransport.deadLetters`. */
  async deadLetters(
    channel: string,
    options: { limit?: number } = {},
  ): Promise<DeadLetter[]> {
    this.#context.lifecycle.check('read dead letters');
    const limit = options.limit ?? -1;

    const rows = read('read dead letters', () => {
      const row = this.#require(channel);
      return this.#context.db
        .prepare(
          `SELECT * FROM dead_letters WHERE channel_id = ?
           ORDER BY entry LIMIT ?`,
        )
        .all(row.id, limit) as DeadLetterRow[];
    });
    return rows.map((entry) => ({
      message: toWireMessage(entry, channel),
      group: entry.consumer,
      reason: entry.reason,
      attempts: entry.attempts,
      deadLetteredAt: entry.dead_lettered_at,
    }));
  }

  /**
   * See `ChannelTransport.replayDeadLetters`. A dead letter whose group no
   * longer exists stays where it is and is not counted.
   */
  async replayDeadLetters(
    channel: string,
    options: { ids?: readonly string[] } = {},
  ): Promise<number> {
    this.#context.lifecycle.check('replay dead letters');
    const { db } = this.#context;

    const replayed = await this.#context.writer.run(
      'replay dead letters',
      () => {
        const row = this.#require(channel);
        const entries = db
          .prepare(
            'SELECT * FROM dead_letters WHERE channel_id = ? ORDER BY entry',
          )
          .all(row.id) as DeadLetterRow[];
        const wanted =
          options.ids === undefined ? undefined : new Set(options.ids);
        const group = db.prepare(
          'SELECT id FROM consumers WHERE channel_id = ? AND name = ?',
        );
        const restore = db.prepare(
          `INSERT INTO messages (seq, channel_id, ${MESSAGE_COLUMNS})
         VALUES (?, ?, ${MESSAGE_PLACEHOLDERS}) ON CONFLICT (seq) DO NOTHING`,
        );
        const requeue = db.prepare(
          `INSERT INTO deliveries
           (consumer_id, seq, attempt, visible_at, token, ordering_key)
         VALUES (?, ?, 0, 0, 0, ?)
         ON CONFLICT (consumer_id, seq)
         DO UPDATE SET attempt = 0, visible_at = 0, token = 0`,
        );
        const forget = db.prepare('DELETE FROM dead_letters WHERE entry = ?');

        let count = 0;
        for (const entry of entries) {
          if (wanted !== undefined && !wanted.has(entry.id)) continue;
          const consumer = group.get(row.id, entry.consumer) as
            | { id: number }
            | undefined;
          if (consumer === undefined) continue;
          restore.run(
            entry.seq,
            row.id,
            entry.id,
            entry.body,
            entry.content_type,
            entry.attributes,
            entry.published_at,
            entry.publisher_id,
            entry.sequence,
            entry.ordering_key,
            entry.traceparent,
            entry.tracestate,
          );
          requeue.run(consumer.id, entry.seq, entry.ordering_key);
          forget.run(entry.entry);
          count++;
        }
        return count;
      },
    );

    this.#context.wakeups.notify(channelTopic(channel));
    return replayed;
  }

  /** See `ChannelTransport.purgeDeadLetters`. */
  async purgeDeadLetters(channel: string): Promise<number> {
    this.#context.lifecycle.check('purge dead letters');

    return this.#context.writer.run('purge dead letters', () => {
      const row = this.#require(channel);
      return this.#context.db
        .prepare('DELETE FROM dead_letters WHERE channel_id = ?')
        .run(row.id).changes;
    });
  }

  /**
   * Removes the channel's broadcast consumers whose instance has not been
   * seen for the inactive threshold, inside a write.
   */
  removeInactive(channelId: number): void {
    const since = Date.now() - this.#context.options.broadcastInactiveMs;
    const gone = this.#inactive.all(channelId, since) as { id: number }[];
    for (const { id } of gone) removeConsumer(this.#context, id);
  }

  /** Removes inactive broadcast consumers, then returns the channel. */
  #sweep(channel: string): Promise<ChannelRow> {
    return this.#context.writer.run('sweep consumers', () => {
      const row = this.#require(channel);
      this.removeInactive(row.id);
      return row;
    });
  }

  #require(channel: string): ChannelRow {
    const row = this.#channelRow(channel);
    if (row === undefined) throw notFound('channel', channel, { channel });
    return row;
  }

  #countsOf(channelId: number): ConsumerCounts[] {
    return this.#counts.all(channelId) as ConsumerCounts[];
  }
}

/** The sequence at or below which `consumer` has acknowledged everything. */
function ackFloor(consumer: ConsumerCounts): number {
  return consumer.first === null
    ? consumer.cursor
    : Math.min(consumer.cursor, consumer.first - 1);
}
